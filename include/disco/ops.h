/*
 * ops.h - the one table of operations every interface is built from.
 *
 * An operation has a dotted name ("resource.create"), a one-line summary, a
 * parameter schema and a handler taking JSON parameters and returning a JSON
 * result. The CLI (`disco resource create --type audio`), the HTTP API
 * (`POST /api/resource/create`) and the DAW bridge are thin adapters: they
 * turn their input into a JSON object of raw parameters, and
 * disco_ops_validate() checks and converts it once, centrally, against the
 * schema, so every interface gets the same rules and the same messages
 * ("param 'top_k': must be an integer in 1..10000, got \"ten\"").
 *
 *     argv / HTTP body / DAW message
 *              |  adapter: raw JSON params (strings or typed values)
 *              v
 *     disco_ops_validate(op, raw)  -> typed params with defaults
 *              |
 *     op->fn(ctx, params, &result) -> JSON result
 */
#ifndef DISCO_OPS_H
#define DISCO_OPS_H

#include "disco/apitoken.h"
#include "disco/catalog.h"
#include "disco/config.h"
#include "disco/err.h"
#include "disco/objects.h"
#include "disco/progress.h"
#include "disco/tsdb.h"

#include <jansson.h>
#include <stddef.h>

/* ---- context ------------------------------------------------------------ */

/*
 * What a handler runs against: the configuration, the stores (opened on
 * first use), the principal acting, a progress reporter, and the byte
 * streams an adapter offers ("-" as a path). One context per thread.
 */
typedef struct disco_ctx disco_ctx;

/* Copies `cfg`. Opens nothing yet. */
int disco_ctx_new(const disco_config *cfg, disco_ctx **out, disco_status *st);
void disco_ctx_free(disco_ctx *ctx);

const disco_config *disco_ctx_config(const disco_ctx *ctx);
/* The principal acting (owner of what is created); defaults to cfg->user. */
const char *disco_ctx_principal(const disco_ctx *ctx);
void disco_ctx_set_principal(disco_ctx *ctx, const char *principal);

/*
 * The role of the principal (from its API token). DISCO_ROLE_NONE, the
 * default, is local use: every resource is readable and writable, as the
 * CLI always had it. Any other role makes resource ops enforce the ACLs
 * of what they touch for the principal (access.h).
 */
void disco_ctx_set_role(disco_ctx *ctx, disco_role role);
disco_role disco_ctx_role(const disco_ctx *ctx);

/* Progress reports of handlers go to `p` (copied; NULL: none). */
void disco_ctx_set_progress(disco_ctx *ctx, const disco_progress *p);
const disco_progress *disco_ctx_progress(const disco_ctx *ctx);

/*
 * Descriptors for the path "-": `in_fd` is read when a handler's input path
 * is "-", `out_fd` written when its output path is "-"; -1 (the default)
 * refuses "-". disco_ctx_wrote_output() tells whether a handler used out_fd.
 */
void disco_ctx_set_streams(disco_ctx *ctx, int in_fd, int out_fd);
int disco_ctx_in_fd(const disco_ctx *ctx);
int disco_ctx_out_fd(disco_ctx *ctx);
int disco_ctx_wrote_output(const disco_ctx *ctx);

/* The stores under the data folder, opened (and created) on first use; borrowed. */
int disco_ctx_catalog(disco_ctx *ctx, disco_catalog **out, disco_status *st);
int disco_ctx_objects(disco_ctx *ctx, disco_objects **out, disco_status *st);
int disco_ctx_tsdb(disco_ctx *ctx, disco_tsdb **out, disco_status *st);

/*
 * Gives the context an already open time-series store, which
 * disco_ctx_tsdb() then returns instead of opening its own. A tsdb allows
 * one open handle per data folder, so a process serving many contexts at
 * once (the HTTP server, its jobs) opens it once and shares it: a
 * disco_tsdb handle is thread-safe (tsdb.h), so no further locking is
 * needed. `db` is borrowed: disco_ctx_free() does not close it, and it must
 * outlive the context. A store the context had opened itself is closed
 * first; NULL returns the context to opening its own on first use.
 */
void disco_ctx_share_tsdb(disco_ctx *ctx, disco_tsdb *db);

/*
 * Vector collections kept open for every context of a process (the HTTP
 * server): a collection allows one open handle at a time (its LOCK file),
 * and a handle may be used by many threads at once (vindex.h), so each
 * collection is opened on its first use through a sharing context and stays
 * open until the pool is freed (its log is then snapshotted as on close).
 * While it is open, other processes get BUSY for it. Thread-safe.
 */
typedef struct disco_vec_pool disco_vec_pool;

/* An empty pool. NOMEM. */
int disco_vec_pool_new(disco_vec_pool **out, disco_status *st);

/* Closes every collection in it. No context may still use it. NULL is a no-op. */
void disco_vec_pool_free(disco_vec_pool *pool);

/* The vec ops of `ctx` take their collections from `pool` (borrowed; NULL: open their own). */
void disco_ctx_share_vectors(disco_ctx *ctx, disco_vec_pool *pool);

/* ---- schema ------------------------------------------------------------- */

typedef enum disco_ptype {
    DISCO_P_STRING,  /* text; `choices` may restrict it */
    DISCO_P_INT,     /* integer; DISCO_PARAM_RANGE bounds it */
    DISCO_P_NUMBER,  /* real; DISCO_PARAM_RANGE bounds it */
    DISCO_P_BOOL,    /* true/false (CLI: --flag, --no-flag, yes/no, 1/0, on/off) */
    DISCO_P_STRINGS, /* list of text (CLI: repeat the flag or separate with commas) */
    DISCO_P_IDS,     /* list of resource ids (as STRINGS, each checked) */
    DISCO_P_TAGS,    /* string map (CLI: key=value, repeated or comma-separated) */
    DISCO_P_OBJECT,  /* JSON object (CLI: JSON text, or @FILE to read it from a file) */
    DISCO_P_PATH,    /* local file path; "-" means the context's stream */
    DISCO_P_ID,      /* one resource id */
    DISCO_P_HASH,    /* one object hash (64 hex digits) */
    DISCO_P_HASHES,  /* list of object hashes */
    DISCO_P_TIME,    /* ISO 8601 or Unix ms; becomes an integer of Unix ms */
    DISCO_P_JSON,    /* any JSON value (CLI: JSON text, or @FILE) */
} disco_ptype;

enum {
    DISCO_PARAM_REQUIRED = 1u << 0,
    DISCO_PARAM_POSITIONAL = 1u << 1, /* CLI: may be given without its flag, in order */
    DISCO_PARAM_RANGE = 1u << 2,      /* min/max apply */
    /*
     * A PATH whose "-" is the context's input stream. Over HTTP that is a
     * request body sent in its own media type (not JSON), the op's other
     * parameters then in the query string (docs/server.md).
     */
    DISCO_PARAM_STREAM_IN = 1u << 3,
    /*
     * A PATH whose "-" is the context's output stream. Over HTTP what the
     * op writes there is kept as an object of the store and the result
     * names it in "output" (docs/server.md).
     */
    DISCO_PARAM_STREAM_OUT = 1u << 4,
};

typedef struct disco_param {
    const char *name; /* snake_case; the CLI also accepts --kebab-case */
    disco_ptype type;
    unsigned flags;
    const char *def;            /* default as JSON text; NULL: absent unless given */
    double min, max;            /* with DISCO_PARAM_RANGE */
    const char *const *choices; /* NULL-terminated, for DISCO_P_STRING */
    char short_flag;            /* CLI one-letter flag ('o' for -o), or 0 */
    const char *help;
    /*
     * STREAM_IN: media types of what the stream carries, space-separated,
     * the usual one first (NULL: application/octet-stream). STREAM_OUT:
     * the one media type of what the op writes (NULL: the same default).
     */
    const char *media;
} disco_param;

struct disco_op;
typedef int (*disco_op_fn)(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st);

/*
 * Op flags. The role an interface requires before calling an op
 * (disco_access_op_role() in access.h computes it):
 *   DISCO_OP_ADMIN            admin
 *   DISCO_OP_WRITES           writer or admin
 *   neither                   reader, writer or admin
 * The local CLI (no token, DISCO_ROLE_NONE) may call every op. Ops still
 * check the ACL of each resource they touch against the context's role.
 */
enum {
    DISCO_OP_WRITES = 1u << 0, /* changes stored state */
    DISCO_OP_LONG = 1u << 1,   /* may take long: interfaces run it as a job */
    DISCO_OP_ADMIN = 1u << 2,  /* administration (API tokens): admins only */
};

typedef struct disco_op {
    const char *name;          /* "group.verb", or one word for top-level ops */
    const char *summary;       /* one line */
    const char *help;          /* paragraphs and examples for --help; may be NULL */
    const disco_param *params; /* terminated by an entry with name NULL */
    unsigned flags;
    const char *columns; /* for list results: comma-separated fields to tabulate */
    disco_op_fn fn;
} disco_op;

/* Every operation, sorted by name; `*n` gets the count. */
const disco_op *const *disco_ops_all(size_t *n);

/* The operation called `name`, or NULL. */
const disco_op *disco_ops_find(const char *name);

/* The parameter of `op` called `name` (snake or kebab case), or NULL. */
const disco_param *disco_ops_param(const disco_op *op, const char *name);

/*
 * Whether value `v` of param `p` names a file on this machine: a PATH param
 * (but "-" where the param is a stream, STREAM_IN or STREAM_OUT), an "@FILE"
 * JSON value, or a text param taking "a file or a resource id" (input,
 * reference, model) that holds no valid id. Remote interfaces refuse these.
 */
int disco_ops_param_names_file(const disco_param *p, const json_t *v);

/* "string", "integer", ... as shown in help and schemas. */
const char *disco_ptype_name(disco_ptype t);

/*
 * Checks `raw` (a JSON object whose values are typed JSON, or strings to be
 * converted as the CLI gives them) against the schema of `op`: unknown and
 * missing parameters, types, ranges and choices. On success *params is a new
 * object with converted values and defaults filled in. Errors are
 * DISCO_ERR_INVAL with the parameter in st->field and a message such as
 * "param 'top_k': must be an integer in 1..10000, got \"ten\"".
 */
int disco_ops_validate(const disco_op *op, const json_t *raw, json_t **params, disco_status *st);

/*
 * Turns CLI words after the op name ("ID --tags a=b,c=d -o out.wav --json"
 * minus the global flags) into raw parameters: flags by name or short
 * letter, --flag=value, --no-flag for booleans, repeated flags collected,
 * the rest assigned to positional parameters in order (the last positional
 * list takes all remaining words). DISCO_ERR_USAGE for unknown flags, a
 * flag without its value, or too many words.
 */
int disco_ops_parse_args(const disco_op *op, int argc, char **argv, json_t **raw, disco_status *st);

/*
 * Validates `raw` and runs the operation. Errors from validation are
 * DISCO_ERR_INVAL with st->field set; others come from the handler.
 * *result is a new reference on success.
 */
int disco_ops_call(disco_ctx *ctx, const disco_op *op, const json_t *raw, json_t **result,
                   disco_status *st);

/*
 * Runs an operation on parameters that disco_ops_validate() produced.
 * Adapters that must tell validation errors (usage) from run-time errors
 * call the two steps themselves.
 */
int disco_ops_run(disco_ctx *ctx, const disco_op *op, const json_t *params, json_t **result,
                  disco_status *st);

/* The schema of every operation as JSON (name, summary, params with types). */
json_t *disco_ops_describe(void);

/*
 * The HTTP API as an OpenAPI 3.1 document (openapi.c): POST
 * /api/<group>/<verb> for every op with a request schema made from its
 * params, the named aliases, the resource, object, job and health routes,
 * and shared components (Error, Job, JobEvent, the bearer scheme).
 * `server_url` goes into "servers" (NULL or "": "/", the serving host).
 * Returns a new reference, or NULL when out of memory.
 */
json_t *disco_ops_openapi(const char *server_url);

#endif
