#include "common/test.h"

#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int vkq_test_failures = 0;
uint64_t vkq_test_seed = 0;
static uint64_t rng_state[2];
static const char *test_name = "test";

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Under the sanitizers, the Vulkan loader's dlclose of the driver and of the validation layer
 * would leave LeakSanitizer with "<unknown module>" frames that no suppression can name. Pinning
 * them (RTLD_NODELETE) keeps their symbols for the report, and tests/lsan.supp explains each. */
static void pin_vulkan_modules(void) {
#ifdef VKQ_TEST_SANITIZE
    static const char *const modules[] = {"libvulkan_lvp.so", "libVkLayer_khronos_validation.so", "libvulkan.so.1"};
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) dlopen(modules[i], RTLD_NOW | RTLD_NODELETE);
#endif
}

void test_init(const char *name) {
    test_name = name;
    pin_vulkan_modules();
    const char *env = getenv("VKQ_TEST_SEED");
    if (env && *env) {
        vkq_test_seed = strtoull(env, NULL, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        vkq_test_seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    uint64_t s = vkq_test_seed;
    rng_state[0] = splitmix(&s);
    rng_state[1] = splitmix(&s);
    printf("%s: seed %llu (set VKQ_TEST_SEED to repeat)\n", name,
           (unsigned long long)vkq_test_seed);
}

int test_finish(void) {
    if (vkq_test_failures) {
        printf("%s: %d check(s) failed (seed %llu)\n", test_name, vkq_test_failures,
               (unsigned long long)vkq_test_seed);
        return 1;
    }
    printf("%s: all checks passed\n", test_name);
    return 0;
}

uint64_t test_rand_u64(void) {
    uint64_t s0 = rng_state[0], s1 = rng_state[1];
    uint64_t r = s0 + s1;
    s1 ^= s0;
    rng_state[0] = ((s0 << 55) | (s0 >> 9)) ^ s1 ^ (s1 << 14);
    rng_state[1] = (s1 << 36) | (s1 >> 28);
    return r;
}

float test_rand_uniform(float lo, float hi) {
    double u = (double)(test_rand_u64() >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

float test_rand_normal(void) {
    double u1 = ((double)(test_rand_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(test_rand_u64() >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int test_rand_int(int lo, int hi) {
    return lo + (int)(test_rand_u64() % (uint64_t)(hi - lo + 1));
}

static void log_to_stderr(vkq_log_level level, const char *message, void *user_data) {
    (void)user_data;
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    fprintf(stderr, "vkq %s: %s\n", names[level <= 4 ? level : 0], message);
}

vkq_context *test_gpu_context_desc(vkq_context_desc desc) {
    desc.validation = 1;
    desc.log = log_to_stderr;
    if (!desc.log_level) desc.log_level = VKQ_LOG_WARN;
    vkq_context *ctx = NULL;
    vkq_status st = vkq_context_create(&desc, &ctx);
    if (st != VKQ_OK) {
        fprintf(stderr, "no GPU context (%s): %s\n", vkq_status_string(st),
                vkq_context_last_error(ctx));
        vkq_context_destroy(ctx);
        vkq_test_failures++;
        return NULL;
    }
    return ctx;
}

vkq_context *test_gpu_context(void) {
    vkq_context_desc desc = {0};
    return test_gpu_context_desc(desc);
}

void test_gpu_context_destroy(vkq_context *ctx) {
    if (!ctx) return;
    uint32_t n = vkq_context_validation_messages(ctx);
    CHECK_MSG(n == 0, "%u validation message(s)", n);
    vkq_context_destroy(ctx);
}

const char *test_source_path(const char *relative) {
    static char buf[4096];
    const char *root = getenv("VKQ_TEST_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", relative);
    return buf;
}
