/*
 * fuzz_ops_body.c - any HTTP request body, given to any operation, must end
 * in a result or a 4xx-class error: never a crash, a leak, UB or a 5xx.
 *
 * Input: "<op>[ <role>]\n<body>". <op> is an op name; anything else picks
 * op number (sum of its bytes) modulo the table size, so mutations reach
 * every op. <role> is reader, writer or admin (default: none, a server
 * without tokens). <body> goes the way src/http/api.c run_op() takes it:
 *
 *   disco_json_parse_object()       the body (empty: {}), depth-limited
 *   disco_access_op_check()         the role may call the op
 *   refuse server files             disco_ops_param_names_file(), as api.c
 *   disco_ops_validate()            schema checks
 *   disco_ops_run()                 on a fresh context sharing the stores
 *
 * and every failure must be a negative disco_err with a message whose HTTP
 * status (reply.c disco__http_status) is 4xx; validation errors name a field.
 *
 * The stores live in a scratch data folder made once per process (and the
 * process works inside it), seeded with two resources, a metric "fuzz_cpu"
 * with points and a 4-d collection "seed" of three vectors. State carries
 * over from input to input, as on a server. Since the process changes into
 * that folder, give it corpus and artifact paths that are absolute (as
 * scripts/run-fuzz.sh does).
 *
 * Validated but not run:
 *   - DISCO_OP_LONG ops: the server runs them as jobs; they train, render,
 *     import or scan whole stores and are unbounded by nature;
 *   - music.sample: not flagged long, but it loads the model file and runs
 *     the transformer for up to 8192 tokens (seconds per call), and may
 *     render with FluidSynth.
 * Ops whose required param is a path (audio.import, model.register) are
 * always refused by the server-file rule, as over HTTP. "-" for a stream
 * param passes the rule as on the server; with a JSON body there is no
 * stream, and the op must refuse it.
 *
 * DESIGN: the server-file rule is replicated from api.c (static there, in
 * the http layer this library does not link); keep the two alike.
 */
#include "fuzz_check.h"

#include "disco/access.h"
#include "disco/id.h"
#include "disco/json.h"
#include "disco/ops.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char g_dir[] = "/tmp/disco-fuzz-ops-XXXXXX";
static disco_config g_cfg;
static disco_ctx *g_owner; /* owns the shared tsdb */
static disco_tsdb *g_tsdb;
static disco_vec_pool *g_vecs;

/* ---- the server's rules ----------------------------------------------------- */

static int paths_allowed(const disco_op *op, const json_t *raw)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)raw, key, v) {
        const disco_param *p = disco_ops_param(op, key);
        if (p && disco_ops_param_names_file(p, v))
            return 0;
    }
    return 1;
}

/* reply.c disco__http_status(): the codes that map to a 4xx status. */
static int is_4xx(int rc)
{
    switch (rc) {
    case DISCO_ERR_INVAL:
    case DISCO_ERR_USAGE:
    case DISCO_ERR_NOTFOUND:
    case DISCO_ERR_EXISTS:
    case DISCO_ERR_CONFLICT:
    case DISCO_ERR_CANCELLED:
    case DISCO_ERR_PERM:
    case DISCO_ERR_LIMIT:
    case DISCO_ERR_UNSUPPORTED:
        return 1;
    default:
        return 0;
    }
}

/* A failure the server would answer with a 4xx and a message. */
static void check_failure(const disco_op *op, int rc, const disco_status *st)
{
    if (rc < 0 && is_4xx(rc) && st->msg[0])
        return;
    fprintf(stderr, "op %s: rc %d (%s), message '%s'\n", op->name, rc, disco_errname(rc), st->msg);
    abort();
}

/* ---- the scratch data folder ------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void teardown(void)
{
    disco_vec_pool_free(g_vecs);
    disco_ctx_free(g_owner);
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A context as the server makes one per request: principal, role, shared stores. */
static disco_ctx *request_ctx(disco_role role)
{
    disco_status st = {0};
    disco_ctx *ctx = NULL;

    CHECK(disco_ctx_new(&g_cfg, &ctx, &st) == DISCO_OK);
    disco_ctx_set_principal(ctx, "fuzz");
    disco_ctx_set_role(ctx, role);
    disco_ctx_share_tsdb(ctx, g_tsdb);
    disco_ctx_share_vectors(ctx, g_vecs);
    return ctx;
}

/* Runs op `name` on `params` (JSON text) for the seed; it must succeed. */
static void seed_call(const char *name, const char *params, json_t **out)
{
    disco_ctx *ctx = request_ctx(DISCO_ROLE_NONE);
    disco_status st = {0};
    json_t *raw = json_loads(params, 0, NULL), *result = NULL;
    int rc;

    CHECK(raw);
    rc = disco_ops_call(ctx, disco_ops_find(name), raw, &result, &st);
    if (rc != DISCO_OK) {
        fprintf(stderr, "seeding %s: %s\n", name, st.msg);
        abort();
    }
    if (out)
        *out = result;
    else
        json_decref(result);
    json_decref(raw);
    disco_ctx_free(ctx);
}

static void write_seed_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");

    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0);
}

static void seed_resources(void)
{
    json_t *first = NULL;
    char params[256];

    seed_call("resource.create",
              "{\"type\": \"prompt\", \"tags\": {\"genre\": \"jazz\"},"
              " \"metadata\": {\"title\": \"seed\", \"bpm\": 120}}",
              &first);
    snprintf(params, sizeof params, "{\"type\": \"midi\", \"parents\": [\"%s\"], \"public\": true}",
             json_string_value(json_object_get(first, "resource_id")));
    json_decref(first);
    seed_call("resource.create", params, NULL);
}

static void seed_stores(void)
{
    write_seed_file("seed.line", "fuzz_cpu,host=a value=1.5 1700000000000000000\n"
                                 "fuzz_cpu,host=a value=2.5 1700000010000000000\n"
                                 "fuzz_cpu,host=b value=0.5 1700000000000000000\n"
                                 "fuzz_cpu,host=b value=4 1700000020000000000\n");
    write_seed_file(
        "seed.json",
        "{\"vectors\": [{\"id\": \"a\", \"values\": [1, 0, 0, 0], \"metadata\": {\"g\": 1}},"
        "{\"id\": \"b\", \"values\": [0, 1, 0, 0], \"metadata\": {\"g\": 2}},"
        "{\"id\": \"c\", \"values\": [0, 0, 1, 0.5]}]}");
    seed_call("ts.create", "{\"name\": \"fuzz_cpu\", \"unit\": \"percent\"}", NULL);
    seed_call("ts.write", "{\"file\": \"seed.line\", \"format\": \"line\"}", NULL);
    seed_call("vec.create", "{\"name\": \"seed\", \"dim\": 4}", NULL);
    seed_call("vec.upsert", "{\"name\": \"seed\", \"file\": \"seed.json\"}", NULL);
    seed_resources();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    disco_status st = {0};

    (void)argc;
    (void)argv;
    CHECK(mkdtemp(g_dir) && chdir(g_dir) == 0);
    g_cfg = disco_config_default();
    CHECK(disco_config_set(&g_cfg, "data_dir", "data", "fuzz", &st) == DISCO_OK);
    CHECK(disco_config_set(&g_cfg, "user", "fuzz", "fuzz", &st) == DISCO_OK);
    CHECK(disco_config_set(&g_cfg, "tsdb_fsync", "never", "fuzz", &st) == DISCO_OK);
    CHECK(disco_ctx_new(&g_cfg, &g_owner, &st) == DISCO_OK);
    CHECK(disco_ctx_tsdb(g_owner, &g_tsdb, &st) == DISCO_OK);
    CHECK(disco_vec_pool_new(&g_vecs, &st) == DISCO_OK);
    atexit(teardown);
    seed_stores();
    return 0;
}

/* ---- one input ---------------------------------------------------------------- */

/* Not run (see the header): long by flag or by nature. */
static int runnable(const disco_op *op)
{
    return !(op->flags & DISCO_OP_LONG) && strcmp(op->name, "music.sample") != 0;
}

/* The op and role named by the first line (`line` of `len` bytes). */
static const disco_op *pick_op(const uint8_t *line, size_t len, disco_role *role)
{
    char name[64];
    size_t n, sum = 0, k = 0;
    const disco_op *const *all = disco_ops_all(&n);
    const disco_op *op;

    *role = DISCO_ROLE_NONE;
    for (; k < len && k + 1 < sizeof name && line[k] != ' '; k++)
        name[k] = (char)line[k];
    name[k] = '\0';
    if (k < len && line[k] == ' ') {
        char word[16] = {0};
        size_t w = len - k - 1 < sizeof word - 1 ? len - k - 1 : sizeof word - 1;
        memcpy(word, line + k + 1, w);
        if (memchr(word, '\0', w) == NULL &&
            disco_apitoken_role_parse(word, role, NULL) != DISCO_OK)
            *role = DISCO_ROLE_NONE;
    }
    op = disco_ops_find(name);
    for (size_t i = 0; !op && i < len; i++)
        sum += line[i];
    return op ? op : all[sum % n];
}

/* validate + run, as api.c run_op() after the body is parsed. */
static void run_body(const disco_op *op, disco_role role, const json_t *raw)
{
    json_t *params = NULL, *result = NULL;
    disco_status st = {0};
    disco_ctx *ctx;
    int rc = disco_access_op_check(op, role, &st);

    if (rc != DISCO_OK || !paths_allowed(op, raw)) {
        if (rc != DISCO_OK)
            check_failure(op, rc, &st);
        return;
    }
    rc = disco_ops_validate(op, raw, &params, &st);
    if (rc != DISCO_OK) {
        /* The field names the param; only an empty key ("") cannot be named. */
        CHECK(rc == DISCO_ERR_INVAL && (st.field[0] || json_object_get(raw, "")));
        check_failure(op, rc, &st);
        return;
    }
    if (runnable(op)) {
        ctx = request_ctx(role);
        disco_status_clear(&st);
        rc = disco_ops_run(ctx, op, params, &result, &st);
        if (rc == DISCO_OK) {
            char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
            CHECK(text);
            free(text);
        } else {
            check_failure(op, rc, &st);
        }
        json_decref(result);
        disco_ctx_free(ctx);
    }
    json_decref(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl ? (size_t)(nl - data) : size;
    const char *body = (const char *)data + line + (nl != NULL);
    size_t len = size - line - (nl != NULL);
    disco_status st = {0};
    disco_role role;
    const disco_op *op = pick_op(data, line, &role);
    json_t *raw = NULL;
    int rc = len ? disco_json_parse_object(body, len, "request body", &raw, &st) : DISCO_OK;

    if (rc != DISCO_OK) {
        CHECK(rc == DISCO_ERR_INVAL && !raw);
        check_failure(op, rc, &st);
        return 0;
    }
    if (!raw)
        raw = json_object();
    run_body(op, role, raw);
    json_decref(raw);
    return 0;
}
