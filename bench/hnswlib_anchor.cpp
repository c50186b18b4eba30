// hnswlib_anchor.cpp - the anchor of the vector-search benchmark: Debian's
// hnswlib built with -O3 -march=native, driven on the same data as ours.
//
//   hnswlib_anchor METRIC BASE.fvecs QUERY.fvecs TRUTH.ivecs K [EF...]
//
// METRIC is l2 or cosine (vectors normalised, inner-product space). Prints
// one line "build SECONDS BYTES" then, per ef, "ef EF QPS RECALL@K". With
// no EF arguments it then reads lines "ef EF" from standard input and
// answers each with that line (flushed), until end of input: the caller can
// interleave its own measurements with ours, so a busy spell of the machine
// hits both sides alike. M = 16, efConstruction = 200, one thread. A
// benchmark, not the product.
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static std::vector<float> read_fvecs(const char *path, size_t &n, size_t &d)
{
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::perror(path);
        std::exit(2);
    }
    int dim = 0;
    std::vector<float> out;
    n = 0;
    while (std::fread(&dim, 4, 1, f) == 1) {
        size_t at = out.size();
        out.resize(at + (size_t)dim);
        if (std::fread(out.data() + at, 4, (size_t)dim, f) != (size_t)dim)
            std::exit(2);
        d = (size_t)dim;
        n++;
    }
    std::fclose(f);
    return out;
}

static std::vector<int> read_ivecs(const char *path, size_t &k)
{
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::perror(path);
        std::exit(2);
    }
    int dim = 0;
    std::vector<int> out;
    while (std::fread(&dim, 4, 1, f) == 1) {
        size_t at = out.size();
        out.resize(at + (size_t)dim);
        if (std::fread(out.data() + at, 4, (size_t)dim, f) != (size_t)dim)
            std::exit(2);
        k = (size_t)dim;
    }
    std::fclose(f);
    return out;
}

static void normalise(std::vector<float> &v, size_t d)
{
    for (size_t i = 0; i + d <= v.size(); i += d) {
        double s = 0;
        for (size_t j = 0; j < d; j++)
            s += (double)v[i + j] * v[i + j];
        float inv = s > 0 ? (float)(1.0 / std::sqrt(s)) : 0.f;
        for (size_t j = 0; j < d; j++)
            v[i + j] *= inv;
    }
}

// One pass of every query at `ef`: prints "ef EF QPS RECALL@K".
static void sweep(hnswlib::HierarchicalNSW<float> &index, const std::vector<float> &query,
                  const std::vector<int> &truth, size_t nq, size_t d, size_t tk, size_t k,
                  size_t ef)
{
    size_t hits = 0;
    index.setEf(ef);
    auto q0 = std::chrono::steady_clock::now();
    for (size_t q = 0; q < nq; q++) {
        auto res = index.searchKnn(query.data() + q * d, k);
        while (!res.empty()) {
            size_t id = res.top().second;
            res.pop();
            for (size_t j = 0; j < k; j++)
                hits += (size_t)truth[q * tk + j] == id;
        }
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - q0).count();
    std::printf("ef %zu %.1f %.4f\n", ef, (double)nq / s, (double)hits / (double)(nq * k));
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s l2|cosine BASE QUERY TRUTH K [EF...]\n", argv[0]);
        return 2;
    }
    bool cosine = std::strcmp(argv[1], "cosine") == 0;
    size_t n, d, nq, dq, tk;
    std::vector<float> base = read_fvecs(argv[2], n, d), query = read_fvecs(argv[3], nq, dq);
    std::vector<int> truth = read_ivecs(argv[4], tk);
    size_t k = (size_t)std::atoi(argv[5]);
    if (cosine) {
        normalise(base, d);
        normalise(query, d);
    }
    hnswlib::L2Space l2(d);
    hnswlib::InnerProductSpace ip(d);
    hnswlib::SpaceInterface<float> *space = cosine ? (hnswlib::SpaceInterface<float> *)&ip : &l2;
    auto t0 = std::chrono::steady_clock::now();
    hnswlib::HierarchicalNSW<float> index(space, n, 16, 200, 100);
    for (size_t i = 0; i < n; i++)
        index.addPoint(base.data() + i * d, i);
    double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t bytes = n * index.size_data_per_element_ + n * sizeof(void *);
    std::printf("build %.3f %zu\n", build, bytes);
    for (int a = 6; a < argc; a++)
        sweep(index, query, truth, nq, d, tk, k, (size_t)std::atoi(argv[a]));
    if (argc == 6) {
        std::fflush(stdout);
        char line[64];
        size_t ef;
        while (std::fgets(line, sizeof line, stdin))
            if (std::sscanf(line, "ef %zu", &ef) == 1) {
                sweep(index, query, truth, nq, d, tk, k, ef);
                std::fflush(stdout);
            }
    }
    return 0;
}
