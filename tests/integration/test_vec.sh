# test_vec.sh - vector collections through the CLI: create, upsert (JSON and
# .npy), fetch, search with filters and facets, delete, stats, batch, cluster.
source "$(dirname "$0")/lib.sh"

d vec create songs --dim 4 --metric cosine --json
expect_eq "create" "4" "$(jqo .dim)"
d vec create songs --dim 4
expect_err "create twice" 1 "songs"
d vec create 'Bad Name' --dim 4
expect_err "bad collection name" 1 "Bad Name"

cat >"$T/v.json" <<'JSON'
{"vectors": [
 {"id": "a", "values": [1, 0, 0, 0], "metadata": {"genre": "jazz", "bpm": 90}},
 {"id": "b", "values": [0.9, 0.1, 0, 0], "metadata": {"genre": "jazz", "bpm": 120}},
 {"id": "c", "values": [0, 1, 0, 0], "metadata": {"genre": "rock", "bpm": 140}},
 {"id": "d", "values": [0, 0.9, 0.1, 0], "metadata": {"genre": "rock", "bpm": 100, "tags": ["live", "loud"]}},
 {"id": "e", "values": [0, 0, 1, 0], "metadata": {"genre": "soul", "bpm": 80}},
 {"id": "f", "values": [0, 0, 0, 1]}
]}
JSON
d vec upsert songs "$T/v.json" --json
expect_eq "upsert JSON" "6 6" "$(jqo '"\(.upserted) \(.inserted)"')"
d vec fetch songs a c --json
expect_eq "fetch" "a,c" "$(jqo '[.items[].id] | sort | join(",")')"
d vec search songs --vector '[1, 0.05, 0, 0]' -k 2 --json
expect_eq "nearest by vector" "a,b" "$(jqo '[.matches[].id] | join(",")')"
d vec search songs --id c -k 2 --json
expect_eq "nearest by stored id" "c,d" "$(jqo '[.matches[].id] | join(",")')"
d vec search songs --vector '[1, 0, 0, 0]' -k 3 --filter '{"genre": "rock"}' --json
expect_eq "filtered search" "c,d" "$(jqo '[.matches[].id] | sort | join(",")')"
d vec search songs --vector '[1, 0, 0, 0]' --filter '{"bpm": {"$gte": 100, "$lt": 130}}' --json
expect_eq "range filter" "b,d" "$(jqo '[.matches[].id] | sort | join(",")')"
d vec search songs --vector '[1, 0, 0, 0]' --filter '{"tags": "live"}' --json
expect_eq "list field filter" "d" "$(jqo '[.matches[].id] | join(",")')"
d vec search songs --vector '[1, 1, 1, 1]' -k 6 --facets genre --json
expect_eq "facets" "2" "$(jqo '.facets.genre.jazz')"
d vec search songs --vector '[1, 0, 0]'
expect_err "query of the wrong dimension" 1 "4 numbers"
d vec search songs --vector '[1, 0, 0, 0]' --filter '{"bpm": {"$gtt": 1}}'
expect_err "bad filter names the operator" 1 "\$gtt"

printf '{"queries": [{"vector": [1,0,0,0], "k": 1}, {"vector": [0,0,1,0], "k": 1}]}' >"$T/q.json"
d vec batch-search songs "$T/q.json" --json
expect_eq "batch search" "a,e" "$(jqo '[.results[].matches[0].id] | join(",")')"

d vec upsert songs --json - <<<'[{"id": "a", "values": [0, 0, 0, 1]}]'
expect_eq "upsert replaces" "1" "$(jqo .replaced)"
d vec search songs --vector '[0, 0, 0, 1]' -k 2 --json
expect_eq "replaced vector is searched" "a,f" "$(jqo '[.matches[].id] | sort | join(",")')"

d vec delete songs b
expect_code "delete by id" 0
d vec delete songs --filter '{"genre": "rock"}' --json
expect_eq "delete by filter" "2" "$(jqo .deleted)"
d vec stats songs --json
expect_eq "count after deletes" "3" "$(jqo .count)"
d vec delete songs
expect_err "delete needs ids, a filter or --all" 1 "--all"

# .npy input (float32, shape (3, 4)) written with perl
perl -e 'my $h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), }";
         $h .= " " x (64 - 10 - length($h) - 1) . "\n";
         print "\x93NUMPY\x01\x00", pack("v", length $h), $h, pack("f<*", 1,1,0,0, 0,1,1,0, 0,0,1,1)' >"$T/x.npy"
d vec upsert songs "$T/x.npy" --id-prefix row- --json
expect_eq "upsert .npy" "3" "$(jqo .inserted)"
d vec fetch songs row-1 --json
expect_eq "npy row values (unit length for cosine)" "0,1,1,0" \
    "$(jqo '.items[0].values | map(if . > 0.5 then "1" else "0" end) | join(",")')"
d vec upsert songs "$T/x.npy"
expect_err ".npy needs ids" 1 "--ids"

d vec cluster songs --vector '[1, 1, 1, 1]' --top 6 --clusters 2 --json
expect_eq "cluster" "2" "$(jqo '.clusters | length')"
d vec stats --json
expect_eq "list collections" "songs" "$(jqo '.items[0].name')"
d vec search nosuch --vector '[1]'
expect_err "unknown collection" 1 "nosuch"
# diversity (MMR): near-duplicates give way to something different
d vec create div --dim 2 --metric cosine
d vec upsert div --json - <<<'[{"id":"x1","values":[1,0]},{"id":"x2","values":[1,0.01]},{"id":"x3","values":[1,0.02]},{"id":"y","values":[0.6,0.8]}]'
d vec search div --vector '[1, 0]' -k 2 --json
expect_eq "plain search: the near-duplicates" "x1,x2" "$(jqo '[.matches[].id] | join(",")')"
d vec search div --vector '[1, 0]' -k 2 --diversity 0.3 --json
expect_eq "diversity brings in the different one" "x1,y" "$(jqo '[.matches[].id] | join(",")')"
