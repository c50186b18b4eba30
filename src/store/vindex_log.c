/*
 * vindex_log.c - the collection's log of changes since the last snapshot,
 * and the little-endian byte buffers every vindex file is built with.
 *
 *   log.dvl
 *   +------------------------- header (16 bytes) ---------------------------+
 *   | "DVLG" | version u16 | reserved u16 | dim u32 | crc32c u32 of the 12  |
 *   +------------------------- record ---------------------------------------+
 *   | len u32 (type + payload) | crc32c u32 (type, payload) | type u8      |
 *   | payload (len - 1 bytes)                                               |
 *   +------------------------- record ... -----------------------------------+
 *
 *   upsert payload: count u32, then per item
 *     ns str16 | id str16 | metadata u32 length + compact JSON (0: none) | dim f32
 *   delete payload: count u32, then per item  ns str16 | id str16
 *   str16: length u16 + bytes. All integers and floats little-endian.
 *
 * Each record is written whole and fdatasync'd before the call that made
 * it returns. Replay applies the records in order; they are idempotent
 * (an upsert sets a key, a delete clears it), so a log replayed over a
 * snapshot that already holds its changes gives the same state. A torn
 * last record (short, or failing its checksum at the end of the file) is
 * cut with a warning; damage followed by more records is CORRUPT.
 */
#include "vindex_int.h"

#include "disco/crc32c.h"
#include "disco/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_HDR 16
#define REC_HDR 9
#define REC_MAX ((uint32_t)1 << 30)
#define LOG_VERSION 1

typedef struct log_header {
    char magic[4];
    uint16_t version;
    uint16_t reserved;
    uint32_t dim;
    uint32_t crc;
} log_header;

_Static_assert(sizeof(log_header) == LOG_HDR, "log header is 16 bytes");

/* ---- buffers --------------------------------------------------------------------------- */

void disco__vx_put(vx_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *np;

        while (cap < b->len + n)
            cap *= 2;
        np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void disco__vx_put_u8(vx_buf *b, uint8_t x)
{
    disco__vx_put(b, &x, 1);
}

void disco__vx_put_u16(vx_buf *b, uint16_t x)
{
    uint8_t p[2] = {(uint8_t)x, (uint8_t)(x >> 8)};

    disco__vx_put(b, p, 2);
}

void disco__vx_put_u32(vx_buf *b, uint32_t x)
{
    uint8_t p[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};

    disco__vx_put(b, p, 4);
}

void disco__vx_put_u64(vx_buf *b, uint64_t x)
{
    disco__vx_put_u32(b, (uint32_t)x);
    disco__vx_put_u32(b, (uint32_t)(x >> 32));
}

void disco__vx_put_str16(vx_buf *b, const char *s)
{
    size_t n = strlen(s);

    disco__vx_put_u16(b, (uint16_t)n);
    disco__vx_put(b, s, n);
}

void disco__vx_put_meta(vx_buf *b, const json_t *meta)
{
    char *s;

    if (!meta) {
        disco__vx_put_u32(b, 0);
        return;
    }
    s = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) {
        b->oom = 1;
        return;
    }
    disco__vx_put_u32(b, (uint32_t)strlen(s));
    disco__vx_put(b, s, strlen(s));
    free(s);
}

void disco__vx_put_vec(vx_buf *b, const float *vec, size_t dim)
{
    for (size_t i = 0; i < dim; i++) {
        uint32_t u;

        memcpy(&u, &vec[i], 4);
        disco__vx_put_u32(b, u);
    }
}

uint32_t disco__vx_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int disco__vx_get(vx_rd *r, void *out, size_t n)
{
    if (n > r->len - r->off)
        return -1;
    if (out)
        memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

int disco__vx_get_u16(vx_rd *r, uint16_t *x)
{
    uint8_t p[2];

    if (disco__vx_get(r, p, 2) != 0)
        return -1;
    *x = (uint16_t)(p[0] | p[1] << 8);
    return 0;
}

int disco__vx_get_u32(vx_rd *r, uint32_t *x)
{
    uint8_t p[4];

    if (disco__vx_get(r, p, 4) != 0)
        return -1;
    *x = disco__vx_le32(p);
    return 0;
}

int disco__vx_get_u64(vx_rd *r, uint64_t *x)
{
    uint32_t lo, hi;

    if (disco__vx_get_u32(r, &lo) != 0 || disco__vx_get_u32(r, &hi) != 0)
        return -1;
    *x = (uint64_t)hi << 32 | lo;
    return 0;
}

/* A str16 as a new NUL-terminated string; -1 when short, too long or holding a NUL. */
int disco__vx_get_str16(vx_rd *r, char **out)
{
    uint16_t n;
    char *s;

    if (disco__vx_get_u16(r, &n) != 0 || n > DISCO_VINDEX_ID_MAX || n > r->len - r->off)
        return -1;
    if (memchr(r->p + r->off, 0, n))
        return -1;
    s = malloc((size_t)n + 1);
    if (!s)
        return -1;
    memcpy(s, r->p + r->off, n);
    s[n] = 0;
    r->off += n;
    *out = s;
    return 0;
}

/* Metadata as a new object (NULL for none); -1 when short or not valid metadata. */
int disco__vx_get_meta(vx_rd *r, json_t **out)
{
    uint32_t n;
    json_t *m;

    *out = NULL;
    if (disco__vx_get_u32(r, &n) != 0 || n > r->len - r->off || n > DISCO_VMETA_MAX_BYTES)
        return -1;
    if (n == 0)
        return 0;
    m = json_loadb((const char *)r->p + r->off, n, JSON_REJECT_DUPLICATES, NULL);
    if (!m || !json_is_object(m) || disco_vmeta_check(m, NULL) != DISCO_OK) {
        json_decref(m);
        return -1;
    }
    r->off += n;
    *out = m;
    return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

int disco__vx_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void header_bytes(uint8_t out[LOG_HDR], uint32_t dim)
{
    vx_buf b = {0};

    disco__vx_put(&b, "DVLG", 4);
    disco__vx_put_u16(&b, LOG_VERSION);
    disco__vx_put_u16(&b, 0);
    disco__vx_put_u32(&b, dim);
    disco__vx_put_u32(&b, disco_crc32c(0, b.p, 12));
    if (!b.oom)
        memcpy(out, b.p, LOG_HDR);
    else
        memset(out, 0, LOG_HDR);
    free(b.p);
}

/* Writes a fresh log holding only its header (temp + fsync + rename). */
static int log_write_new(const char *dir, uint32_t dim, disco_status *st)
{
    char *tmp = disco__vx_path(dir, VX_LOG_NAME ".tmp"), *path = disco__vx_path(dir, VX_LOG_NAME);
    uint8_t hdr[LOG_HDR];
    int fd = -1, rc = DISCO_ERR_NOMEM;

    if (!tmp || !path)
        goto out_free;
    header_bytes(hdr, dim);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, hdr, LOG_HDR) != 0 || fsync(fd) != 0 || rename(tmp, path) != 0) {
        rc = disco_status_errno(st, errno, "log", "vindex: cannot write %s", path);
        goto out_free;
    }
    disco__vx_fsync_dir(dir);
    rc = DISCO_OK;
out_free:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(path);
    return rc;
}

int disco__vx_log_create(const char *dir, disco_status *st)
{
    disco_vindex_config cfg;
    int rc = disco__vx_config_read(dir, &cfg, st);

    return rc != DISCO_OK ? rc : log_write_new(dir, (uint32_t)cfg.dim, st);
}

static int read_file(int fd, uint8_t **out, size_t *len)
{
    struct stat sb;
    uint8_t *p;
    size_t got = 0;

    if (fstat(fd, &sb) != 0)
        return -1;
    p = malloc((size_t)sb.st_size + 1);
    if (!p)
        return -1;
    while (got < (size_t)sb.st_size) {
        ssize_t r = pread(fd, p + got, (size_t)sb.st_size - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *out = p;
    *len = got;
    return 0;
}

/* ---- replay ---------------------------------------------------------------------------- */

static void free_items(vx_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)it[i].ns);
        free((char *)it[i].id);
        json_decref(it[i].meta);
        free((float *)it[i].vec);
    }
    free(it);
}

static int decode_item(vx_rd *r, size_t dim, vx_item *it)
{
    float *vec;

    if (disco__vx_get_str16(r, (char **)&it->ns) != 0 ||
        disco__vx_get_str16(r, (char **)&it->id) != 0 || it->id[0] == 0 ||
        disco__vx_get_meta(r, &it->meta) != 0 || dim * 4 > r->len - r->off)
        return -1;
    vec = malloc(dim * sizeof *vec);
    if (!vec)
        return -1;
    for (size_t d = 0; d < dim; d++) {
        uint32_t u = disco__vx_le32(r->p + r->off + 4 * d);

        memcpy(&vec[d], &u, 4);
        if (!isfinite(vec[d])) {
            free(vec);
            return -1;
        }
    }
    r->off += dim * 4;
    it->vec = vec;
    return 0;
}

static int replay_upsert(disco_vindex *v, vx_rd *r, const char **why)
{
    uint32_t count;
    vx_item *it;
    int rc = DISCO_ERR_CORRUPT;

    if (disco__vx_get_u32(r, &count) != 0 || count > r->len / 6) {
        *why = "bad item count";
        return DISCO_ERR_CORRUPT;
    }
    it = calloc(count ? count : 1, sizeof *it);
    if (!it)
        return DISCO_ERR_NOMEM;
    for (uint32_t i = 0; i < count; i++) {
        if (decode_item(r, v->cfg.dim, &it[i]) != 0) {
            *why = "bad upsert item";
            goto out_items;
        }
    }
    if (r->off != r->len) {
        *why = "trailing bytes";
        goto out_items;
    }
    rc = disco__vx_apply_upsert(v, it, count, 0, NULL, NULL, NULL);
    if (rc != DISCO_OK)
        *why = "cannot apply the upsert";
out_items:
    free_items(it, count);
    return rc;
}

static int replay_delete(disco_vindex *v, vx_rd *r, const char **why)
{
    uint32_t count;

    if (disco__vx_get_u32(r, &count) != 0) {
        *why = "bad item count";
        return DISCO_ERR_CORRUPT;
    }
    for (uint32_t i = 0; i < count; i++) {
        char *ns = NULL, *id = NULL;
        int bad = disco__vx_get_str16(r, &ns) != 0 || disco__vx_get_str16(r, &id) != 0;

        if (!bad)
            disco__vx_apply_delete(v, ns, id);
        free(ns);
        free(id);
        if (bad) {
            *why = "bad delete item";
            return DISCO_ERR_CORRUPT;
        }
    }
    if (r->off != r->len) {
        *why = "trailing bytes";
        return DISCO_ERR_CORRUPT;
    }
    return DISCO_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/*
 * Classifies the record at `off`: 1 whole and intact (*len its length), 0
 * a torn tail, -1 damage with more bytes after it.
 */
static int record_state(const uint8_t *p, size_t size, size_t off, uint32_t *len)
{
    size_t rem = size - off;
    uint32_t crc;

    if (rem < REC_HDR)
        return 0;
    *len = disco__vx_le32(p + off);
    crc = disco__vx_le32(p + off + 4);
    if (*len == 0 || *len > REC_MAX)
        return all_zero(p + off, rem) ? 0 : -1;
    if (*len > rem - 8)
        return 0;
    if (disco_crc32c(0, p + off + 8, *len) != crc)
        return off + 8 + *len == size ? 0 : -1;
    return 1;
}

static int replay_one(disco_vindex *v, const uint8_t *p, uint32_t len, const char **why)
{
    vx_rd r = {p + 1, len - 1, 0};

    if (p[0] == VX_REC_UPSERT)
        return replay_upsert(v, &r, why);
    if (p[0] == VX_REC_DELETE)
        return replay_delete(v, &r, why);
    *why = "unknown record type";
    return DISCO_ERR_CORRUPT;
}

static int cut_tail(disco_vindex *v, size_t off, size_t size, disco_status *st)
{
    DISCO_LOG_WARN("vindex %s: cutting a torn record at offset %zu of %s/%s (%zu bytes)", v->name,
                   off, v->dir, VX_LOG_NAME, size - off);
    if (ftruncate(v->logfd, (off_t)off) != 0 || fdatasync(v->logfd) != 0)
        return disco_status_errno(st, errno, "log", "vindex: cannot cut %s/%s at %zu", v->dir,
                                  VX_LOG_NAME, off);
    return DISCO_OK;
}

static int replay(disco_vindex *v, const uint8_t *p, size_t size, disco_status *st)
{
    size_t off = LOG_HDR;

    while (off < size) {
        uint32_t len = 0;
        int state = record_state(p, size, off, &len), rc;
        const char *why = "checksum mismatch";

        if (state == 0)
            return cut_tail(v, off, size, st);
        if (state > 0)
            rc = replay_one(v, p + off + 8, len, &why);
        else
            rc = DISCO_ERR_CORRUPT;
        if (rc != DISCO_OK)
            return disco_status_set(st, rc, "log", "vindex: %s/%s is damaged at offset %zu: %s",
                                    v->dir, VX_LOG_NAME, off, why);
        off += 8 + (size_t)len;
    }
    v->log_bytes = size;
    return DISCO_OK;
}

static int check_header(disco_vindex *v, const uint8_t *p, size_t size, disco_status *st)
{
    uint8_t want[LOG_HDR];

    header_bytes(want, (uint32_t)v->cfg.dim);
    if (size < LOG_HDR || memcmp(p, want, LOG_HDR) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "log",
                                "vindex: %s/%s has a bad header at offset 0 (magic, version, "
                                "dim %zu or checksum)",
                                v->dir, VX_LOG_NAME, v->cfg.dim);
    return DISCO_OK;
}

/* Opens log.dvl (making a fresh one when missing) and replays it. */
int disco__vx_log_open(disco_vindex *v, disco_status *st)
{
    char *path = disco__vx_path(v->dir, VX_LOG_NAME);
    uint8_t *p = NULL;
    size_t size = 0;
    int rc = DISCO_ERR_NOMEM;

    if (!path)
        return rc;
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        DISCO_LOG_WARN("vindex %s: %s is missing; starting an empty log", v->name, path);
        rc = log_write_new(v->dir, (uint32_t)v->cfg.dim, st);
        if (rc != DISCO_OK)
            goto out_path;
    }
    v->logfd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (v->logfd < 0 || read_file(v->logfd, &p, &size) != 0) {
        rc = disco_status_errno(st, errno, "log", "vindex: cannot read %s", path);
        goto out_path;
    }
    rc = check_header(v, p, size, st);
    if (rc == DISCO_OK)
        rc = replay(v, p, size, st);
    free(p);
out_path:
    free(path);
    return rc;
}

/* Appends one framed record (type byte first in `rec`) and syncs it. */
int disco__vx_log_append(disco_vindex *v, const vx_buf *rec, disco_status *st)
{
    vx_buf b = {0};
    int rc = DISCO_OK;

    if (rec->oom || rec->len > REC_MAX)
        return disco_status_set(st, rec->oom ? DISCO_ERR_NOMEM : DISCO_ERR_LIMIT, "items",
                                "vindex %s: the change is too large to log", v->name);
    disco__vx_put_u32(&b, (uint32_t)rec->len);
    disco__vx_put_u32(&b, disco_crc32c(0, rec->p, rec->len));
    disco__vx_put(&b, rec->p, rec->len);
    if (b.oom) {
        free(b.p);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "vindex: no memory for a log record");
    }
    if (write_all(v->logfd, b.p, b.len) != 0 || fdatasync(v->logfd) != 0) {
        rc = disco_status_errno(st, errno, "log", "vindex: cannot append to %s/%s", v->dir,
                                VX_LOG_NAME);
        if (ftruncate(v->logfd, (off_t)v->log_bytes) != 0)
            DISCO_LOG_ERROR("vindex %s: cannot undo a partial log write", v->name);
    } else {
        v->log_bytes += b.len;
    }
    free(b.p);
    return rc;
}

/* Empties the log after a snapshot holds its changes. */
int disco__vx_log_reset(disco_vindex *v, disco_status *st)
{
    if (ftruncate(v->logfd, LOG_HDR) != 0 || fdatasync(v->logfd) != 0)
        return disco_status_errno(st, errno, "log", "vindex: cannot empty %s/%s", v->dir,
                                  VX_LOG_NAME);
    v->log_bytes = LOG_HDR;
    return DISCO_OK;
}
