/* A stand-in libnvidia-ml.so.1 for the tests: the NVML entry points nvidia-ml-py calls, scripted by
 * environment variables read at nvmlInit.
 *   FAKE_NVML_GPUS       "name,util%,mem_total_MiB,mem_used_MiB,temp_C,power_mW;..." (power -1: not supported)
 *   FAKE_NVML_FAIL_AFTER  utilisation reads that succeed before every later one fails with GPU_IS_LOST
 *   FAKE_NVML_CALLS       a file that gets one line per nvmlInit (to count initialisations)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GPUS 8
enum { OK = 0, UNINITIALIZED = 1, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, GPU_IS_LOST = 15 };

typedef struct { char name[96]; unsigned util, total, used, temp; int power; } gpu_t;
typedef struct { unsigned gpu, memory; } utilization_t;
typedef struct { unsigned long long total, free, used; } memory_t;

static gpu_t gpus[MAX_GPUS];
static unsigned count, initialised;
static long fail_after = -1, util_reads;

static void parse(const char *spec) {
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item && count < MAX_GPUS; item = strtok_r(NULL, ";", &save)) {
        gpu_t *g = &gpus[count];
        if (sscanf(item, "%95[^,],%u,%u,%u,%u,%d", g->name, &g->util, &g->total, &g->used, &g->temp, &g->power) == 6)
            count++;
    }
    free(copy);
}

int nvmlInitWithFlags(unsigned flags) {
    (void)flags;
    const char *spec = getenv("FAKE_NVML_GPUS"), *fail = getenv("FAKE_NVML_FAIL_AFTER"), *calls = getenv("FAKE_NVML_CALLS");
    count = 0;
    util_reads = 0;
    if (spec) parse(spec);
    fail_after = fail ? atol(fail) : -1;
    if (calls) {
        FILE *f = fopen(calls, "a");
        if (f) { fputs("init\n", f); fclose(f); }
    }
    initialised = 1;
    return OK;
}
int nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
int nvmlInit(void) { return nvmlInitWithFlags(0); }
int nvmlShutdown(void) { initialised = 0; return OK; }

const char *nvmlErrorString(int result) {
    switch (result) {
    case OK: return "Success";
    case UNINITIALIZED: return "Uninitialized";
    case INVALID_ARGUMENT: return "Invalid Argument";
    case NOT_SUPPORTED: return "Not Supported";
    case GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

static gpu_t *device(void *handle) {
    gpu_t *g = handle;
    return initialised && g >= gpus && g < gpus + count ? g : NULL;
}

int nvmlDeviceGetCount_v2(unsigned *n) {
    if (!initialised) return UNINITIALIZED;
    *n = count;
    return OK;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **handle) {
    if (!initialised) return UNINITIALIZED;
    if (index >= count) return INVALID_ARGUMENT;
    *handle = &gpus[index];
    return OK;
}
int nvmlDeviceGetName(void *handle, char *name, unsigned length) {
    gpu_t *g = device(handle);
    if (!g) return INVALID_ARGUMENT;
    snprintf(name, length, "%s", g->name);
    return OK;
}
int nvmlDeviceGetUtilizationRates(void *handle, utilization_t *util) {
    gpu_t *g = device(handle);
    if (!g) return INVALID_ARGUMENT;
    if (fail_after >= 0 && util_reads >= fail_after) return GPU_IS_LOST;
    util_reads++;
    util->gpu = g->util;
    util->memory = g->util / 2;
    return OK;
}
int nvmlDeviceGetMemoryInfo(void *handle, memory_t *memory) {
    gpu_t *g = device(handle);
    if (!g) return INVALID_ARGUMENT;
    memory->total = (unsigned long long)g->total << 20;
    memory->used = (unsigned long long)g->used << 20;
    memory->free = memory->total - memory->used;
    return OK;
}
int nvmlDeviceGetTemperature(void *handle, int sensor, unsigned *temp) {
    gpu_t *g = device(handle);
    if (!g || sensor != 0) return INVALID_ARGUMENT;
    *temp = g->temp;
    return OK;
}
int nvmlDeviceGetPowerUsage(void *handle, unsigned *milliwatts) {
    gpu_t *g = device(handle);
    if (!g) return INVALID_ARGUMENT;
    if (g->power < 0) return NOT_SUPPORTED;
    *milliwatts = (unsigned)g->power;
    return OK;
}
