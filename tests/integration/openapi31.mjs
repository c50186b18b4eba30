// openapi31.mjs - validates OpenAPI documents against the OAS 3.1 schema-base
// (every Schema Object checked against the OAS dialect through $dynamicRef),
// with the validator that scripts/fetch-openapi-schema.sh put in DIR.
//
//   node openapi31.mjs DIR FILE...
//
// One line per FILE: "valid FILE", or "invalid FILE: LOC LOC ..." with the
// JSON Pointers (as "#/a/b") of the places that failed. Exit 0 when every
// FILE is valid, 1 when one is not, 2 when DIR or a FILE cannot be read.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const SCHEMA_BASE = "https://spec.openapis.org/oas/3.1/schema-base";

async function main(argv) {
    if (argv.length < 2) {
        console.error("usage: node openapi31.mjs DIR FILE...");
        return 2;
    }
    const entry = join(argv[0], "node_modules/@hyperjump/json-schema/openapi-3-1/index.js");
    const { validate } = await import(pathToFileURL(entry).href);
    let status = 0;
    for (const file of argv.slice(1)) {
        const doc = JSON.parse(readFileSync(file, "utf8"));
        const out = await validate(SCHEMA_BASE, doc, "BASIC");
        if (out.valid) {
            console.log(`valid ${file}`);
            continue;
        }
        const where = [...new Set(out.errors.map((e) => e.instanceLocation))];
        console.log(`invalid ${file}: ${where.join(" ")}`);
        status = 1;
    }
    return status;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        console.error(`openapi31.mjs: ${err.message}`);
        process.exit(2);
    }
);
