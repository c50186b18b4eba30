/*
 * test_chain.c - the JSON effect chain: every kind of error (unknown effect,
 * unknown key, out of range, wrong type, missing, bad JSON) names its exact
 * path; a chain run block by block equals the effects run by hand; bare
 * arrays, empty chains and signal checks.
 */
#include "disco/effects.h"

#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

#define RATE 44100

static disco_audio make_audio(size_t frames, int channels)
{
    disco_audio a = {calloc(frames * (size_t)channels, sizeof(float)), frames, channels, RATE};

    assert_non_null(a.data);
    return a;
}

/* JSON, channels, and the message the chain must fail with (its field is the path before ": "). */
static const struct {
    const char *json;
    int channels;
    const char *msg;
} chain_errors[] = {
    {"{\"effects\":[{\"type\":\"flanger\"}]}", 2,
     "effects[0].type: unknown effect \"flanger\"; known: eq, compressor, reverb, delay, gain, "
     "pan, width, fade"},
    {"[{\"type\":\"gain\",\"gain_db\":1},{\"type\":\"compressor\",\"ratoi\":3}]", 2,
     "effects[1].ratoi: unknown key; known: type, threshold_db, ratio, knee_db, attack_ms, "
     "release_ms, makeup_db, detector, rms_ms"},
    {"{\"effects\":[{\"type\":\"gain\",\"gain_db\":0},{\"type\":\"gain\",\"gain_db\":0},"
     "{\"type\":\"eq\",\"bands\":[{\"kind\":\"peaking\",\"freq\":30000}]}]}",
     2, "effects[2].bands[0].freq: 30000 Hz is above Nyquist (22050 Hz)"},
    {"[{\"type\":\"eq\",\"kind\":\"lowpass\",\"freq\":30000}]", 2,
     "effects[0].freq: 30000 Hz is above Nyquist (22050 Hz)"},
    {"[{\"type\":\"compressor\",\"ratio\":0.5}]", 2, "effects[0].ratio: 0.5 out of range 1..100"},
    {"[{\"type\":\"gain\",\"gain_db\":\"loud\"}]", 2,
     "effects[0].gain_db: expected a number, got string"},
    {"[{\"type\":\"reverb\",\"wet\":true}]", 2, "effects[0].wet: expected a number, got boolean"},
    {"[{\"type\":\"gain\"}]", 2, "effects[0].gain_db: missing (required)"},
    {"[{\"type\":\"gain\",\"gain_db\":30}]", 2, "effects[0].gain_db: 30 out of range -60..24"},
    {"[{\"gain_db\":3}]", 2, "effects[0].type: missing (required)"},
    {"[{\"type\":7}]", 2, "effects[0].type: expected a string, got number"},
    {"[3]", 2, "effects[0]: expected an object, got number"},
    {"[{\"type\":\"pan\",\"pan\":0.5}]", 1,
     "effects[0].type: pan needs 2 channels, the signal has 1"},
    {"[{\"type\":\"eq\",\"bands\":[{\"freq\":100,\"gian_db\":2}]}]", 2,
     "effects[0].bands[0].gian_db: unknown key; known: kind, freq, gain_db, q, slope"},
    {"[{\"type\":\"eq\",\"bands\":[{\"kind\":\"notch\",\"freq\":100}]}]", 2,
     "effects[0].bands[0].kind: unknown filter kind \"notch\"; known: lowpass, highpass, "
     "peaking, lowshelf, highshelf"},
    {"[{\"type\":\"eq\",\"bands\":[]}]", 2, "effects[0].bands: 0 bands; 1..16 allowed"},
    {"[{\"type\":\"eq\",\"freq\":100,\"bands\":[{\"freq\":200}]}]", 2,
     "effects[0].freq: not allowed together with bands"},
    {"[{\"type\":\"delay\",\"time\":\"1/8\"}]", 2, "effects[0].bpm: missing (required)"},
    {"[{\"type\":\"delay\",\"time\":\"1/8\",\"bpm\":120,\"time_ms\":100}]", 2,
     "effects[0].time_ms: give either time_ms or time, not both"},
    {"[{\"type\":\"delay\",\"time\":\"1/1\",\"bpm\":40}]", 2,
     "effects[0].time: 1/1 at 40 bpm is 6000 ms, above 4000 ms"},
    {"[{\"type\":\"delay\",\"time\":\"1/9q\",\"bpm\":120}]", 2,
     "effects[0].time: \"1/9q\" is not a note value like 1/4, 1/8., 1/8t"},
    {"[{\"type\":\"fade\",\"curve\":\"cosine\"}]", 2,
     "effects[0].curve: unknown fade curve \"cosine\"; known: linear, sine, exp, log, scurve"},
    {"{\"effects\":[],\"extra\":1}", 2, "chain.extra: unknown key; known: effects"},
    {"{\"effect\":[]}", 2, "chain.effect: unknown key; known: effects"},
    {"{}", 2, "effects: missing (required)"},
    {"\"eq\"", 2, "effects: expected an object with \"effects\" or an array, got string"},
    {"[{\"type\":\"eq\"", 2,
     "effects: invalid JSON at line 1, column 13: '}' expected near end of file"},
};

static void test_chain_errors_name_the_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof chain_errors / sizeof chain_errors[0]; i++) {
        const char *json = chain_errors[i].json;
        disco_chain *c = (disco_chain *)&c;
        disco_status st = {0};

        assert_int_equal(
            disco_chain_parse(json, strlen(json), chain_errors[i].channels, RATE, &c, &st),
            DISCO_ERR_INVAL);
        assert_null(c);
        if (strncmp(st.msg, "effects: invalid JSON", 21) != 0)
            assert_int_equal(strncmp(st.msg, st.field, strlen(st.field)), 0);
        assert_string_equal(st.msg + strlen(st.field), strstr(chain_errors[i].msg, ": "));
        if (strcmp(st.msg, chain_errors[i].msg) != 0)
            print_error("case %zu: got message: %s\n", i, st.msg);
        assert_string_equal(st.msg, chain_errors[i].msg);
    }
}

/* The chain of test_chain_runs_effects_in_order, by hand, whole signal per effect. */
static void chain_by_hand(float *x, size_t n)
{
    disco_biquad eq[2];
    disco_biquad_coefs co;
    disco_biquad_band hp = {DISCO_BIQUAD_HIGHPASS, 80, 0, M_SQRT1_2, 0};
    disco_biquad_band hs = {DISCO_BIQUAD_HIGHSHELF, 8000, 2, M_SQRT1_2, 0.7};
    disco_compressor_config cc = disco_compressor_config_default();
    disco_delay_config dc = disco_delay_config_default();
    disco_reverb_config rc = disco_reverb_config_default();
    disco_compressor *comp;
    disco_delay *dl;
    disco_reverb *rv;

    disco_gain_apply(x, n, 2, -6);
    assert_int_equal(disco_biquad_design(&hp, RATE, &co, NULL), DISCO_OK);
    disco_biquad_init(&eq[0], &co, 2);
    assert_int_equal(disco_biquad_design(&hs, RATE, &co, NULL), DISCO_OK);
    disco_biquad_init(&eq[1], &co, 2);
    disco_biquad_process(eq, 2, x, n);
    cc.threshold_db = -30, cc.ratio = 3, cc.detector = DISCO_DETECT_RMS;
    assert_int_equal(disco_compressor_new(&cc, 2, RATE, &comp, NULL), DISCO_OK);
    disco_compressor_process(comp, x, n);
    dc.time_ms = 60000.0 / 128 / 4, dc.feedback = 0.3;
    assert_int_equal(disco_delay_new(&dc, 2, RATE, &dl, NULL), DISCO_OK);
    disco_delay_process(dl, x, n);
    rc.room_size = 0.3, rc.wet = 0.2;
    assert_int_equal(disco_reverb_new(&rc, 2, RATE, &rv, NULL), DISCO_OK);
    disco_reverb_process(rv, x, n);
    disco_width_apply(x, n, 1.3);
    disco_pan_apply(x, n, -0.2);
    disco_fade_apply(x, n, 2, 0, n, RATE / 10, RATE / 5, DISCO_FADE_SCURVE);
    disco_compressor_free(comp);
    disco_delay_free(dl);
    disco_reverb_free(rv);
}

static void test_chain_runs_effects_in_order(void **state)
{
    static const char *spec =
        "{\"effects\":[{\"type\":\"gain\",\"gain_db\":-6},"
        "{\"type\":\"eq\",\"bands\":[{\"kind\":\"highpass\",\"freq\":80},"
        "{\"kind\":\"highshelf\",\"freq\":8000,\"gain_db\":2,\"slope\":0.7}]},"
        "{\"type\":\"compressor\",\"threshold_db\":-30,\"ratio\":3,\"detector\":\"rms\"},"
        "{\"type\":\"delay\",\"time\":\"1/16\",\"bpm\":128,\"feedback\":0.3},"
        "{\"type\":\"reverb\",\"room_size\":0.3,\"wet\":0.2},"
        "{\"type\":\"width\",\"width\":1.3},{\"type\":\"pan\",\"pan\":-0.2},"
        "{\"type\":\"fade\",\"in_s\":0.1,\"out_s\":0.2,\"curve\":\"scurve\"}]}";
    const size_t n = 3 * RATE / 2;
    disco_audio a = make_audio(n, 2), b = make_audio(n, 2);
    disco_chain *c;

    (void)state;
    rng_state = 8;
    for (size_t i = 0; i < 2 * n; i++)
        a.data[i] = b.data[i] = (float)(0.2 * rng_gauss());
    assert_int_equal(disco_chain_parse(spec, strlen(spec), 2, RATE, &c, NULL), DISCO_OK);
    assert_int_equal(disco_chain_length(c), 8);
    assert_int_equal(disco_chain_apply(c, &a, NULL), DISCO_OK);
    chain_by_hand(b.data, n);
    for (size_t i = 0; i < 2 * n; i++)
        assert_near(a.data[i], b.data[i], 1e-6);
    assert_true(a.data[0] == 0.0f && a.data[2 * n - 1] == 0.0f);
    disco_chain_free(c);
    free(a.data);
    free(b.data);
}

static void test_chain_bare_array_and_signal_checks(void **state)
{
    static const char *spec = "[{\"type\":\"gain\",\"gain_db\":6.0206}]";
    disco_audio a = make_audio(100, 1);
    disco_chain *c;
    disco_status st = {0};
    json_t *empty = json_pack("{s:[]}", "effects");

    (void)state;
    for (size_t i = 0; i < 100; i++)
        a.data[i] = 0.25f;
    assert_int_equal(disco_chain_parse(spec, strlen(spec), 1, RATE, &c, NULL), DISCO_OK);
    assert_int_equal(disco_chain_apply(c, &a, NULL), DISCO_OK);
    assert_near(a.data[99], 0.5, 1e-4);
    a.rate = 48000;
    assert_int_equal(disco_chain_apply(c, &a, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "signal");
    disco_chain_free(c);
    a.rate = RATE;
    assert_int_equal(disco_chain_new(empty, 1, RATE, &c, NULL), DISCO_OK);
    assert_int_equal(disco_chain_length(c), 0);
    assert_int_equal(disco_chain_apply(c, &a, NULL), DISCO_OK);
    assert_near(a.data[0], 0.5, 1e-4);
    disco_chain_free(c);
    disco_chain_free(NULL);
    assert_int_equal(disco_chain_new(empty, 0, RATE, &c, &st), DISCO_ERR_INVAL);
    json_decref(empty);
    free(a.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_errors_name_the_path),
        cmocka_unit_test(test_chain_runs_effects_in_order),
        cmocka_unit_test(test_chain_bare_array_and_signal_checks),
    };

    return cmocka_run_group_tests_name("dsp/chain", tests, NULL, NULL);
}
