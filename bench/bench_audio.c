/*
 * bench_audio.c - the audio analysis and mastering side by side with
 * independent referees, in one run.
 *
 *   speed     a 10-minute 44.1 kHz stereo 16-bit WAV (five accuracy-set
 *             pieces of 120 s, rendered with FluidSynth and joined): the full
 *             analysis (disco_audio_analyze, default config: features,
 *             onsets, tempo and beats, key, loudness) from the file against
 *             `aubio tempo` + `aubio mfcc` on the same file (wall clock,
 *             output to /dev/null), and disco_master_apply (streaming
 *             preset) on it in memory. Goals: analysis >= 300x real time and
 *             faster than the two aubio commands together, mastering >= 100x.
 *             Everything timed is pinned to one CPU (the aubio processes
 *             inherit it); best of BENCH_AUDIO_REPS (3) interleaved runs.
 *   master    the long file and three pieces mastered to -14 LUFS / -1 dBTP
 *             and to -23 / -1, written as float WAV and measured by ffmpeg's
 *             ebur128 filter: pass when its integrated loudness is within
 *             +-0.2 LU of the target and its true peak at most the ceiling
 *             + 0.1 dB (ffmpeg oversamples with another interpolator).
 *   referees  the 24 accuracy pieces (24 s, seed 1) as 16-bit WAV: tempo and
 *             key from ours, aubio-tools and essentia.js, per piece and as
 *             Accuracy1 / mean MIREX key score per system (audio_referees.c).
 *
 * A referee that is missing or fails is reported and skipped; the rest goes
 * on. Files go to <build>/bench-audio/ (BENCH_AUDIO_DIR overrides). Renders
 * are cached under names carrying a hash of their notes, so a changed
 * generator renders afresh. essentia.js is looked for in
 * <dir>/node/node_modules/essentia.js (scripts/run-bench.sh installs it
 * there; BENCH_AUDIO_ESSENTIA overrides). BENCH_AUDIO_PARTS picks the parts
 * ("speed,master,referees", default all).
 */
#include "disco/audio.h"
#include "disco/audio_analysis.h"
#include "disco/key.h"
#include "disco/master.h"
#include "disco/render.h"
#include "disco/timeutil.h"
#include "support/pieces.h"

#include "audio_bench.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RATE 44100
#define LONG_PIECE_S 120.0
#define LU_TOL 0.2
#define TP_TOL 0.1
#define ANALYSIS_GOAL 300.0
#define MASTER_GOAL 100.0
#define MAX_REPS 10
#define NLONG (sizeof long_pieces / sizeof long_pieces[0])
#define NMASTER (sizeof master_pieces / sizeof master_pieces[0])

static const size_t long_pieces[] = {0, 8, 11, 16, 21}; /* ballad, funk, bossa, dance, rock */
static const size_t master_pieces[] = {1, 16, 22};      /* strings, dance, punk */

char bench_out_dir[PATH_MAX];
char bench_essentia_dir[PATH_MAX];

void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_audio: %s: %s\n", what, why);
    exit(1);
}

/* snprintf's result checked: a path or command that does not fit is fatal. */
void fit(int written, size_t len)
{
    if (written < 0 || (size_t)written >= len)
        die("path", "too long");
}

double seconds_since(uint64_t start_ns)
{
    return (double)(disco_time_mono_ns() - start_ns) / 1e9;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;

    return n > 0 ? n : def;
}

static int part_on(const char *name)
{
    const char *parts = getenv("BENCH_AUDIO_PARTS");

    return !parts || !*parts || strstr(parts, name) != NULL;
}

int exists(const char *path)
{
    return access(path, R_OK) == 0;
}

int have_command(const char *name)
{
    char cmd[128];

    fit(snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name), sizeof cmd);
    return system(cmd) == 0;
}

/* Paths are put in single quotes in shell commands: refuse one that holds a quote. */
const char *shell_safe(const char *path)
{
    if (strchr(path, '\''))
        die(path, "a path with a single quote cannot be passed to the referees");
    return path;
}

static void mkdir_p(const char *dir)
{
    char buf[PATH_MAX];

    fit(snprintf(buf, sizeof buf, "%s", dir), sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            die(buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST)
        die(buf, strerror(errno));
}

/*
 * Moves to the repository root when this binary lives in
 * <root>/<build>/release/bench/ and writes to <build>/bench-audio there;
 * elsewhere to build/bench-audio under the current folder.
 */
static void find_dirs(void)
{
    const char *dir = getenv("BENCH_AUDIO_DIR"), *ess = getenv("BENCH_AUDIO_ESSENTIA");
    char exe[PATH_MAX], build[PATH_MAX] = "build", probe[PATH_MAX + 32], *cut = NULL;

    if (realpath("/proc/self/exe", exe)) {
        for (int up = 0; up < 4 && (cut = strrchr(exe, '/')); up++) {
            *cut = '\0';
            if (up == 2)
                snprintf(build, sizeof build, "%s", exe);
        }
        fit(snprintf(probe, sizeof probe, "%s/scripts/run-bench.sh", exe), sizeof probe);
        if (!cut || access(probe, X_OK) || chdir(exe))
            snprintf(build, sizeof build, "build");
    }
    if (dir && *dir)
        fit(snprintf(bench_out_dir, sizeof bench_out_dir, "%s", dir), sizeof bench_out_dir);
    else
        fit(snprintf(bench_out_dir, sizeof bench_out_dir, "%s/bench-audio", build),
            sizeof bench_out_dir);
    if (ess && *ess)
        fit(snprintf(bench_essentia_dir, sizeof bench_essentia_dir, "%s", ess),
            sizeof bench_essentia_dir);
    else
        fit(snprintf(bench_essentia_dir, sizeof bench_essentia_dir,
                     "%s/node/node_modules/essentia.js", bench_out_dir),
            sizeof bench_essentia_dir);
    mkdir_p(bench_out_dir);
}

/* --- renders ---------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A hash of what a render depends on: the notes, the programs and the length. */
static uint64_t piece_hash(uint64_t h, const disco_piece *p, double length_s)
{
    for (size_t i = 0; i < p->n_notes; i++) {
        const disco_note *n = &p->notes[i];
        int v[3] = {n->channel, n->pitch, n->velocity};

        h = fnv(h, &n->start_s, sizeof n->start_s);
        h = fnv(h, &n->dur_s, sizeof n->dur_s);
        h = fnv(h, v, sizeof v);
    }
    h = fnv(h, p->programs, sizeof p->programs);
    return fnv(h, &length_s, sizeof length_s);
}

static void make_piece(size_t i, double seconds, disco_piece *p)
{
    if (disco_piece_make(i, SEED, seconds, p))
        die("pieces", "cannot make a piece");
}

/* Renders `p` with reverb; length_s > 0 fixes the output length. */
static void render(const disco_piece *p, double length_s, disco_audio *a)
{
    disco_render_config rc = disco_piece_render_config(p, RATE, 1);
    disco_status st = {0};

    rc.length_s = length_s;
    memset(a, 0, sizeof *a);
    if (disco_render_notes(p->notes, p->n_notes, &rc, &a->data, &a->frames, &st))
        die(p->name, st.msg);
    a->channels = 2;
    a->rate = RATE;
}

static void save(const char *path, const disco_audio *a, disco_audio_encoding enc)
{
    disco_status st = {0};

    if (disco_audio_save(path, a, enc, &st))
        die(path, st.msg);
}

/* The 10-minute file: the long pieces, LONG_PIECE_S each, joined; rendered when missing. */
static void long_file(char *path, size_t len)
{
    disco_piece p[NLONG];
    disco_audio whole = {0}, one;
    disco_status st = {0};
    size_t at = 0, per = (size_t)(LONG_PIECE_S * RATE);
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < NLONG; i++) {
        make_piece(long_pieces[i], LONG_PIECE_S, &p[i]);
        h = piece_hash(h, &p[i], LONG_PIECE_S);
    }
    fit(snprintf(path, len, "%s/long-%016llx.wav", bench_out_dir, (unsigned long long)h), len);
    if (!exists(path)) {
        uint64_t t0 = disco_time_mono_ns();

        if (disco_audio_alloc(&whole, per * NLONG, 2, RATE, &st))
            die("long file", st.msg);
        for (size_t i = 0; i < NLONG; i++, at += per) {
            render(&p[i], LONG_PIECE_S, &one);
            memcpy(whole.data + at * 2, one.data,
                   2 * sizeof(float) * (one.frames < per ? one.frames : per));
            free(one.data);
        }
        save(path, &whole, DISCO_AUDIO_WAV16);
        disco_audio_release(&whole);
        printf("rendered %s in %.1f s\n", path, seconds_since(t0));
    }
    printf("long file: %s =", path);
    for (size_t i = 0; i < NLONG; i++) {
        printf(" %s%s", p[i].name, i + 1 < NLONG ? " +" : "\n");
        disco_piece_release(&p[i]);
    }
}

/* The decoded WAV downmixed to raw float32 mono, written beside it (temp + rename). */
static void write_f32(const char *wav, const char *f32)
{
    char tmp[PATH_MAX + 8];
    disco_audio a;
    disco_status st = {0};
    float *mono;
    FILE *f;

    if (disco_audio_load(wav, &a, &st))
        die(wav, st.msg);
    if (!(mono = malloc(a.frames * sizeof *mono)))
        die(wav, "out of memory");
    disco_audio_downmix(a.data, a.frames, a.channels, mono);
    fit(snprintf(tmp, sizeof tmp, "%s.tmp", f32), sizeof tmp);
    if (!(f = fopen(tmp, "wb")) || fwrite(mono, sizeof *mono, a.frames, f) != a.frames ||
        fclose(f) || rename(tmp, f32))
        die(f32, "cannot write");
    free(mono);
    disco_audio_release(&a);
}

void prepare_piece(size_t i, piece_file *pf)
{
    uint64_t h;

    make_piece(i, ACC_SECONDS, &pf->piece);
    h = piece_hash(0xcbf29ce484222325ull, &pf->piece, 0.0);
    fit(snprintf(pf->wav, sizeof pf->wav, "%s/pieces/%s-s%d-%08llx.wav", bench_out_dir,
                 pf->piece.name, SEED, (unsigned long long)(h & 0xffffffffu)),
        sizeof pf->wav);
    fit(snprintf(pf->f32, sizeof pf->f32, "%.*s.f32", (int)(strlen(pf->wav) - 4), pf->wav),
        sizeof pf->f32);
    if (!exists(pf->wav)) {
        disco_audio a;

        render(&pf->piece, 0.0, &a);
        save(pf->wav, &a, DISCO_AUDIO_WAV16);
        disco_audio_release(&a);
    }
    if (!exists(pf->f32))
        write_f32(pf->wav, pf->f32);
}

/* --- speed -------------------------------------------------------------------- */

typedef struct runs {
    double s[MAX_REPS];
    int n;
    int failed;
} runs;

static void add_run(runs *r, double s)
{
    if (s < 0)
        r->failed = 1;
    else if (r->n < MAX_REPS)
        r->s[r->n++] = s;
}

static double best(const runs *r)
{
    double b = r->n ? r->s[0] : NAN;

    for (int i = 1; i < r->n; i++)
        b = r->s[i] < b ? r->s[i] : b;
    return b;
}

/* Wall-clock seconds of a shell command, or -1 when it fails. */
static double time_command(const char *cmd)
{
    uint64_t t0 = disco_time_mono_ns();
    int rc = system(cmd);

    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        return -1.0;
    return seconds_since(t0);
}

int analyse_file(const char *path, disco_analysis_report *rep)
{
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_audio_reader *r = NULL;
    disco_status st = {0};
    int rc = disco_audio_reader_open(path, &r, &st);

    if (!rc)
        rc = disco_audio_analyze(r, &cfg, NULL, rep, &st);
    disco_audio_reader_close(r);
    if (rc)
        fprintf(stderr, "bench_audio: analyse %s: %s\n", path, st.msg);
    return rc;
}

static double time_analysis(const char *path)
{
    disco_analysis_report rep;
    uint64_t t0 = disco_time_mono_ns();

    if (analyse_file(path, &rep))
        return -1.0;
    disco_analysis_report_release(&rep);
    return seconds_since(t0);
}

static double time_master(const disco_audio *in)
{
    disco_master_config cfg = disco_master_config_preset(DISCO_MASTER_STREAMING);
    disco_master_report rep;
    disco_audio out = {0};
    disco_status st = {0};
    uint64_t t0 = disco_time_mono_ns();
    double s;

    if (disco_master_apply(in, &cfg, NULL, &out, &rep, &st)) {
        fprintf(stderr, "bench_audio: master: %s\n", st.msg);
        return -1.0;
    }
    s = seconds_since(t0);
    disco_audio_release(&out);
    return s;
}

/* Pins this process (and what it starts) to the CPU it runs on; -1 when it cannot. */
static int pin_one_cpu(cpu_set_t *saved)
{
    int cpu = sched_getcpu();
    cpu_set_t one;

    if (cpu < 0 || sched_getaffinity(0, sizeof *saved, saved))
        return -1;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) ? -1 : cpu;
}

static void print_runs(const char *what, const runs *r, double audio_s, double goal)
{
    double b = best(r);

    if (r->failed || r->n == 0) {
        printf("  %-34s failed (see the message above)\n", what);
        return;
    }
    printf("  %-34s %8.3f s %9.1fx real time", what, b, audio_s / b);
    if (goal > 0)
        printf("  (goal >= %.0fx: %s)", goal, audio_s / b >= goal ? "pass" : "FAIL");
    printf("  runs:");
    for (int i = 0; i < r->n; i++)
        printf(" %.3f", r->s[i]);
    printf("\n");
}

static void print_speed(runs *ours, runs *tempo, runs *mfcc, runs *master, double audio_s,
                        const char *no_aubio)
{
    runs both = {.failed = tempo->failed || mfcc->failed};

    for (int i = 0; i < tempo->n && i < mfcc->n; i++)
        add_run(&both, tempo->s[i] + mfcc->s[i]);
    print_runs("ours: full analysis", ours, audio_s, ANALYSIS_GOAL);
    if (no_aubio) {
        printf("  aubio: %s; no comparison\n", no_aubio);
    } else {
        print_runs("aubio tempo", tempo, audio_s, 0);
        print_runs("aubio mfcc", mfcc, audio_s, 0);
        print_runs("aubio tempo + mfcc", &both, audio_s, 0);
        if (!both.failed && !ours->failed && both.n && ours->n)
            printf("  ours/aubio time ratio %.3f: ours %.1fx faster than aubio tempo + mfcc "
                   "(goal: faster: %s)\n",
                   best(ours) / best(&both), best(&both) / best(ours),
                   best(ours) < best(&both) ? "pass" : "FAIL");
    }
    print_runs("ours: mastering (streaming preset)", master, audio_s, MASTER_GOAL);
}

static void bench_speed(const char *wav, const disco_audio *a)
{
    int reps = (int)env_long("BENCH_AUDIO_REPS", 3), cpu;
    const char *no_aubio = have_command("aubio") ? NULL
                                                 : "not installed (scripts/bench-deps.sh installs "
                                                   "aubio-tools)";
    char tempo_cmd[PATH_MAX + 64], mfcc_cmd[PATH_MAX + 64];
    runs ours = {0}, tempo = {0}, mfcc = {0}, master = {0};
    double audio_s = (double)a->frames / a->rate;
    cpu_set_t saved;

    reps = reps > MAX_REPS ? MAX_REPS : reps;
    fit(snprintf(tempo_cmd, sizeof tempo_cmd, "aubio tempo '%s' >/dev/null 2>&1", shell_safe(wav)),
        sizeof tempo_cmd);
    fit(snprintf(mfcc_cmd, sizeof mfcc_cmd, "aubio mfcc '%s' >/dev/null 2>&1", wav),
        sizeof mfcc_cmd);
    cpu = pin_one_cpu(&saved);
    printf("== speed: %.1f s, %d Hz, %d channels, 16-bit WAV; %s %d; best of %d interleaved runs\n",
           audio_s, a->rate, a->channels, cpu < 0 ? "NOT pinned, cpu" : "pinned to CPU",
           cpu < 0 ? -1 : cpu, reps);
    fflush(stdout);
    for (int i = 0; i < reps; i++) {
        add_run(&ours, time_analysis(wav));
        if (!no_aubio) {
            add_run(&tempo, time_command(tempo_cmd));
            add_run(&mfcc, time_command(mfcc_cmd));
        }
        add_run(&master, time_master(a));
    }
    if (cpu >= 0)
        sched_setaffinity(0, sizeof saved, &saved);
    if (tempo.failed || mfcc.failed)
        no_aubio = "installed but a command failed (run it by hand to see why)";
    print_speed(&ours, &tempo, &mfcc, &master, audio_s, no_aubio);
    printf("\n");
}

/* --- mastering against ffmpeg's meter ------------------------------------------- */

typedef struct meter {
    double lufs, peak;
} meter;

/* ffmpeg's ebur128 summary of a file: the "I:" and "Peak:" lines. 0, or -1 when it fails. */
static int ffmpeg_measure(const char *path, meter *m)
{
    char cmd[PATH_MAX + 128], line[512];
    int got = 0;
    FILE *p;

    fit(snprintf(cmd, sizeof cmd,
                 "ffmpeg -hide_banner -nostats -i '%s' -af ebur128=peak=true:framelog=verbose "
                 "-f null - 2>&1",
                 shell_safe(path)),
        sizeof cmd);
    if (!(p = popen(cmd, "r")))
        return -1;
    while (fgets(line, sizeof line, p)) {
        const char *s = line + strspn(line, " \t");

        if (strncmp(s, "I:", 2) == 0 && sscanf(s + 2, "%lf", &m->lufs) == 1)
            got |= 1;
        else if (strncmp(s, "Peak:", 5) == 0 && sscanf(s + 5, "%lf", &m->peak) == 1)
            got |= 2;
    }
    return pclose(p) == 0 && got == 3 ? 0 : -1;
}

/* Masters `in` with a preset, writes it, measures it; 1 when it passes, 0 when not, -1 unknown. */
static int master_row(const char *name, const disco_audio *in, disco_master_preset preset,
                      int have_ffmpeg)
{
    disco_master_config cfg = disco_master_config_preset(preset);
    disco_master_report rep;
    disco_audio out = {0};
    disco_status st = {0};
    char path[PATH_MAX];
    meter m = {NAN, NAN};
    int pass;

    if (disco_master_apply(in, &cfg, NULL, &out, &rep, &st)) {
        printf("  %-22s %6.1f %5.1f  master failed: %s\n", name, cfg.target_lufs, cfg.ceiling_dbtp,
               st.msg);
        return 0;
    }
    fit(snprintf(path, sizeof path, "%s/master-%s-%s.wav", bench_out_dir, name,
                 disco_master_preset_name(preset)),
        sizeof path);
    save(path, &out, DISCO_AUDIO_WAV32F);
    disco_audio_release(&out);
    if (!have_ffmpeg || ffmpeg_measure(path, &m))
        pass = -1;
    else
        pass = fabs(m.lufs - cfg.target_lufs) <= LU_TOL && m.peak <= cfg.ceiling_dbtp + TP_TOL;
    printf("  %-22s %6.1f %5.1f  %8.2f %8.2f  %8.1f %8.1f %+6.1f  %s\n", name, cfg.target_lufs,
           cfg.ceiling_dbtp, rep.out_lufs, rep.out_true_peak_db, m.lufs, m.peak,
           m.lufs - cfg.target_lufs,
           pass < 0 ? (have_ffmpeg ? "ffmpeg FAILED" : "unmeasured")
           : pass   ? "pass"
                    : "FAIL");
    return pass;
}

static void master_input(const char *name, const disco_audio *in, int have_ffmpeg, int *passes,
                         int *rows)
{
    static const disco_master_preset presets[] = {DISCO_MASTER_STREAMING, DISCO_MASTER_BROADCAST};

    for (size_t i = 0; i < 2; i++) {
        *passes += master_row(name, in, presets[i], have_ffmpeg) == 1;
        (*rows)++;
    }
    fflush(stdout);
}

static void bench_master(const disco_audio *long_audio)
{
    int have_ffmpeg = have_command("ffmpeg"), passes = 0, rows = 0;

    printf("== mastering checked by ffmpeg ebur128 (pass: |I - target| <= %.1f LU and true peak "
           "<= ceiling + %.1f dB)\n",
           LU_TOL, TP_TOL);
    if (!have_ffmpeg)
        printf("  ffmpeg: not installed (scripts/bench-deps.sh installs it); our own readings "
               "only\n");
    printf("  %-22s %6s %5s  %8s %8s  %8s %8s %6s\n", "input", "target", "ceil", "ours I",
           "ours TP", "ffmpeg I", "ff TP", "dI");
    master_input("long", long_audio, have_ffmpeg, &passes, &rows);
    for (size_t i = 0; i < NMASTER; i++) {
        piece_file pf;
        disco_audio a;
        disco_status st = {0};

        prepare_piece(master_pieces[i], &pf);
        if (disco_audio_load(pf.wav, &a, &st))
            die(pf.wav, st.msg);
        master_input(pf.piece.name, &a, have_ffmpeg, &passes, &rows);
        disco_audio_release(&a);
        disco_piece_release(&pf.piece);
    }
    printf("  %d of %d pass (masters written to %s/master-*.wav)\n\n", passes, rows, bench_out_dir);
}

int main(void)
{
    char long_path[PATH_MAX], pieces_dir[PATH_MAX + 8];
    disco_audio long_audio = {0};
    disco_status st = {0};

    find_dirs();
    fit(snprintf(pieces_dir, sizeof pieces_dir, "%s/pieces", bench_out_dir), sizeof pieces_dir);
    mkdir_p(pieces_dir);
    if (part_on("speed") || part_on("master")) {
        long_file(long_path, sizeof long_path);
        if (disco_audio_load(long_path, &long_audio, &st))
            die(long_path, st.msg);
        fflush(stdout);
    }
    if (part_on("speed"))
        bench_speed(long_path, &long_audio);
    if (part_on("master"))
        bench_master(&long_audio);
    disco_audio_release(&long_audio);
    if (part_on("referees"))
        bench_referees();
    return 0;
}
