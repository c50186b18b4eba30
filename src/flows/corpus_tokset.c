/*
 * corpus_tokset.c - token sets in memory and the token file format (see
 * include/disco/corpus.h for the layout).
 */
#include "disco/corpus.h"
#include "disco/fileio.h"
#include "disco/crc32c.h"
#include "disco/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_BYTES 32
#define SEQ_HEADER_BYTES 16

void disco_tokset_init(disco_tokset *s)
{
    memset(s, 0, sizeof(*s));
}

void disco_tokset_release(disco_tokset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsources; i++)
        free(s->sources[i]);
    free(s->sources);
    free(s->seqs);
    free(s->lens);
    free(s->source);
    free(s->piece);
    free(s->transpose);
    free(s->tokens);
    free(s->start);
    memset(s, 0, sizeof(*s));
}

/* ---- building ------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Grows the per-sequence arrays to hold `need` sequences. */
static int grow_seqs(disco_tokset *s, size_t need)
{
    size_t cap = s->cap_seqs, c;
    c = cap;
    if (grow((void **)&s->seqs, &c, need, sizeof(*s->seqs)))
        return -1;
    c = cap;
    if (grow((void **)&s->lens, &c, need, sizeof(*s->lens)))
        return -1;
    c = cap;
    if (grow((void **)&s->source, &c, need, sizeof(*s->source)))
        return -1;
    c = cap;
    if (grow((void **)&s->piece, &c, need, sizeof(*s->piece)))
        return -1;
    c = cap;
    if (grow((void **)&s->transpose, &c, need, sizeof(*s->transpose)))
        return -1;
    c = cap;
    if (grow((void **)&s->start, &c, need, sizeof(*s->start)))
        return -1;
    s->cap_seqs = c;
    return 0;
}

/* Grows the token buffer; when it moves, the sequence pointers follow. */
static int grow_tokens(disco_tokset *s, size_t need)
{
    int32_t *old = s->tokens;
    if (grow((void **)&s->tokens, &s->cap_tokens, need, sizeof(*s->tokens)))
        return -1;
    if (s->tokens != old)
        for (size_t i = 0; i < s->nseqs; i++)
            s->seqs[i] = s->tokens + s->start[i];
    return 0;
}

static long source_index(disco_tokset *s, const char *name)
{
    for (size_t i = 0; i < s->nsources; i++)
        if (strcmp(s->sources[i], name) == 0)
            return (long)i;
    if (grow((void **)&s->sources, &s->cap_sources, s->nsources + 1, sizeof(*s->sources)))
        return -1;
    s->sources[s->nsources] = strdup(name);
    if (!s->sources[s->nsources])
        return -1;
    return (long)s->nsources++;
}

int disco_tokset_add(disco_tokset *s, const char *source, uint32_t piece, int32_t transpose,
                     const int32_t *toks, size_t n, disco_status *st)
{
    if (n == 0 || n > UINT32_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tokens",
                                "a sequence needs 1..%u tokens, got %zu", UINT32_MAX, n);
    for (size_t i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= DISCO_TOK_VOCAB)
            return disco_status_set(st, DISCO_ERR_INVAL, "tokens", "token %zu is %d, outside 0..%d",
                                    i, (int)toks[i], DISCO_TOK_VOCAB - 1);
    if (strlen(source) > UINT16_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "source", "source name longer than %u bytes",
                                UINT16_MAX);
    long src = source_index(s, source);
    if (src < 0 || grow_seqs(s, s->nseqs + 1) || grow_tokens(s, s->ntokens + n))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu tokens",
                                s->ntokens + n);
    size_t i = s->nseqs++;
    memcpy(s->tokens + s->ntokens, toks, n * sizeof(*toks));
    s->start[i] = s->ntokens;
    s->seqs[i] = s->tokens + s->ntokens;
    s->lens[i] = n;
    s->source[i] = (uint32_t)src;
    s->piece[i] = piece;
    s->transpose[i] = transpose;
    s->ntokens += n;
    return DISCO_OK;
}

/* ---- writing -------------------------------------------------------------------- */

typedef struct writer {
    FILE *f;
    uint32_t crc;
    int err;
} writer;

static void wr(writer *w, const void *p, size_t n)
{
    if (w->err || n == 0)
        return;
    w->crc = disco_crc32c(w->crc, p, n);
    if (fwrite(p, 1, n, w->f) != n)
        w->err = errno ? errno : EIO;
}

static void wr32(writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wr(w, b, 4);
}

static void wr_tokens(writer *w, const int32_t *t, size_t n)
{
    uint8_t buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)t[i];
        for (int j = 0; j < 4; j++)
            buf[k++] = (uint8_t)(v >> (8 * j));
        if (k == sizeof(buf)) {
            wr(w, buf, k);
            k = 0;
        }
    }
    wr(w, buf, k);
}

static void write_body(writer *w, const disco_tokset *s)
{
    wr(w, DISCO_TOKSET_MAGIC, 8);
    wr32(w, DISCO_TOKSET_VERSION);
    wr32(w, DISCO_TOK_VOCAB);
    wr32(w, (uint32_t)s->nsources);
    wr32(w, (uint32_t)s->nseqs);
    wr32(w, (uint32_t)s->ntokens);
    wr32(w, (uint32_t)((uint64_t)s->ntokens >> 32));
    for (size_t i = 0; i < s->nsources; i++) {
        size_t n = strlen(s->sources[i]);
        uint8_t len[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
        wr(w, len, 2);
        wr(w, s->sources[i], n);
    }
    for (size_t i = 0; i < s->nseqs; i++) {
        wr32(w, s->source[i]);
        wr32(w, s->piece[i]);
        wr32(w, (uint32_t)s->transpose[i]);
        wr32(w, (uint32_t)s->lens[i]);
        wr_tokens(w, s->seqs[i], s->lens[i]);
    }
    wr32(w, w->crc);
}

int disco_tokset_write(const char *path, const disco_tokset *s, disco_status *st)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= sizeof(tmp))
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "token file path too long");
    writer w = {.f = fopen(tmp, "wb")};
    if (!w.f)
        return disco_status_errno(st, errno, "path", "cannot create %s", tmp);
    errno = 0;
    write_body(&w, s);
    if (!w.err && fflush(w.f) != 0)
        w.err = errno;
    if (!w.err && fsync(fileno(w.f)) != 0)
        w.err = errno;
    if (fclose(w.f) != 0 && !w.err)
        w.err = errno;
    if (!w.err && rename(tmp, path) != 0)
        w.err = errno;
    if (w.err) {
        unlink(tmp);
        return disco_status_errno(st, w.err, "path", "cannot write token file %s", path);
    }
    disco_fsync_parent(path);
    return DISCO_OK;
}

/* ---- reading -------------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int corrupt(disco_status *st, size_t off, const char *what)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, "tokens", "token file, offset %zu: %s", off,
                            what);
}

static int read_header(const uint8_t *p, size_t len, uint32_t *nsrc, uint32_t *nseq, uint64_t *ntok,
                       disco_status *st)
{
    if (len < HEADER_BYTES + 4)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "tokens",
                                "token file of %zu bytes is shorter than its header", len);
    if (memcmp(p, DISCO_TOKSET_MAGIC, 8) != 0)
        return corrupt(st, 0, "not a token file (expected \"" DISCO_TOKSET_MAGIC "\")");
    if (rd32(p + 8) != DISCO_TOKSET_VERSION)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "tokens",
                                "token file version %u; this build reads version %d", rd32(p + 8),
                                DISCO_TOKSET_VERSION);
    if (rd32(p + 12) != DISCO_TOK_VOCAB)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "tokens",
                                "token file written for a vocabulary of %u tokens, this build has "
                                "%d: rebuild the corpus",
                                rd32(p + 12), DISCO_TOK_VOCAB);
    uint32_t crc = rd32(p + len - 4);
    if (disco_crc32c(0, p, len - 4) != crc)
        return corrupt(st, len - 4, "checksum mismatch");
    *nsrc = rd32(p + 16);
    *nseq = rd32(p + 20);
    *ntok = (uint64_t)rd32(p + 24) | (uint64_t)rd32(p + 28) << 32;
    size_t body = len - 4 - HEADER_BYTES;
    if (*ntok > body / 4 || *nseq > body / SEQ_HEADER_BYTES || *nsrc > body / 2)
        return corrupt(st, 16, "counts larger than the file can hold");
    return DISCO_OK;
}

static int read_sources(const uint8_t *p, size_t end, size_t *off, uint32_t nsrc, disco_tokset *s,
                        disco_status *st)
{
    s->sources = calloc(nsrc ? nsrc : 1, sizeof(*s->sources));
    if (!s->sources)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    s->cap_sources = nsrc;
    for (uint32_t i = 0; i < nsrc; i++) {
        if (end - *off < 2)
            return corrupt(st, *off, "source names cut off");
        size_t n = (size_t)p[*off] | (size_t)p[*off + 1] << 8;
        if (end - *off - 2 < n)
            return corrupt(st, *off, "source name runs past the end");
        s->sources[i] = strndup((const char *)p + *off + 2, n);
        if (!s->sources[i])
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        s->nsources = i + 1;
        *off += 2 + n;
    }
    return DISCO_OK;
}

static int alloc_seqs(disco_tokset *s, uint32_t nseq, uint64_t ntok, disco_status *st)
{
    if (grow_seqs(s, nseq ? nseq : 1) || grow_tokens(s, ntok ? (size_t)ntok : 1))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %u sequences", nseq);
    return DISCO_OK;
}

static int read_seq(const uint8_t *p, size_t end, size_t *off, disco_tokset *s, uint64_t ntok,
                    disco_status *st)
{
    if (end - *off < SEQ_HEADER_BYTES)
        return corrupt(st, *off, "sequence header cut off");
    const uint8_t *h = p + *off;
    uint32_t src = rd32(h), n = rd32(h + 12);
    if (src >= s->nsources)
        return corrupt(st, *off, "source index out of range");
    if (n == 0 || n > ntok - s->ntokens || (end - *off - SEQ_HEADER_BYTES) / 4 < n)
        return corrupt(st, *off, "sequence length out of range");
    size_t i = s->nseqs++;
    s->source[i] = src;
    s->piece[i] = rd32(h + 4);
    s->transpose[i] = (int32_t)rd32(h + 8);
    s->start[i] = s->ntokens;
    s->lens[i] = n;
    s->seqs[i] = s->tokens + s->ntokens;
    *off += SEQ_HEADER_BYTES;
    for (uint32_t k = 0; k < n; k++, *off += 4) {
        int32_t t = (int32_t)rd32(p + *off);
        if (t < 0 || t >= DISCO_TOK_VOCAB)
            return corrupt(st, *off, "token outside the vocabulary");
        s->tokens[s->ntokens++] = t;
    }
    return DISCO_OK;
}

int disco_tokset_read_mem(const void *buf, size_t len, disco_tokset *out, disco_status *st)
{
    const uint8_t *p = buf;
    uint32_t nsrc = 0, nseq = 0;
    uint64_t ntok = 0;
    size_t off = HEADER_BYTES, end = len - 4;
    disco_tokset_init(out);
    int rc = read_header(p, len, &nsrc, &nseq, &ntok, st);
    if (!rc)
        rc = read_sources(p, end, &off, nsrc, out, st);
    if (!rc)
        rc = alloc_seqs(out, nseq, ntok, st);
    for (uint32_t i = 0; !rc && i < nseq; i++)
        rc = read_seq(p, end, &off, out, ntok, st);
    if (!rc && (off != end || out->ntokens != ntok))
        rc = corrupt(st, off,
                     off != end ? "bytes after the last sequence"
                                : "token count differs from the header");
    if (rc)
        disco_tokset_release(out);
    return rc;
}

int disco_tokset_read(const char *path, disco_tokset *out, disco_status *st)
{
    struct stat sb;
    disco_tokset_init(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return disco_status_errno(st, errno, "path", "cannot open token file %s", path);
    int rc = DISCO_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = disco_status_set(st, DISCO_ERR_IO, "path", "%s is not a readable file", path);
        goto close_fd;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    buf = malloc(len ? len : 1);
    if (!buf) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory reading %s", path);
        goto close_fd;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0) {
            rc = disco_status_errno(st, r < 0 ? errno : EIO, "path", "cannot read %s", path);
            goto close_fd;
        }
        got += (size_t)r;
    }
    rc = disco_tokset_read_mem(buf, len, out, st);
close_fd:
    free(buf);
    close(fd);
    return rc;
}
