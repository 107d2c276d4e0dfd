/* libFuzzer target: the boot manifest parser (user/init/manifest*.c). The
 * input is the manifest text, not NUL-terminated: len bounds every read. */
#include <stddef.h>
#include <stdint.h>

#include "../../user/init/manifest.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MANIFEST_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static void require_vm_sound(const struct manifest_vm *vm)
{
    require_terminated(vm->name, sizeof(vm->name));
    require_terminated(vm->image, sizeof(vm->image));
    require_terminated(vm->cmdline, sizeof(vm->cmdline));
    require_terminated(vm->reason, sizeof(vm->reason));
    REQUIRE(vm->module_count <= MANIFEST_MAX_MODULES);
    for (unsigned i = 0; i < MANIFEST_MAX_MODULES; i++)
        require_terminated(vm->modules[i], sizeof(vm->modules[i]));
    REQUIRE(name_ok(vm->name));
    REQUIRE(vm->line >= 1);
    REQUIRE(vm->valid == (vm->reason[0] == '\0'));
    if (!vm->valid)
        return;
    /* What may start is fully described and within bounds. */
    REQUIRE(name_ok(vm->image));
    for (unsigned i = 0; i < vm->module_count; i++)
        REQUIRE(name_ok(vm->modules[i]));
    REQUIRE(vm->memory >= MANIFEST_MIN_MEMORY && vm->memory <= MANIFEST_MAX_MEMORY);
    REQUIRE(vm->memory % MANIFEST_MEMORY_ALIGN == 0);
    REQUIRE(vm->cpus >= 1 && vm->cpus <= MANIFEST_MAX_CPUS);
    REQUIRE(vm->on_exit == MANIFEST_ON_EXIT_KEEP || vm->on_exit == MANIFEST_ON_EXIT_POWEROFF);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct manifest a, b;
    int valid = manifest_parse((const char *)data, size, &a);
    REQUIRE(a.vm_count <= MANIFEST_MAX_VMS);
    REQUIRE(valid >= 0 && (unsigned)valid <= a.vm_count);
    int counted = 0;
    for (unsigned i = 0; i < a.vm_count; i++) {
        require_vm_sound(&a.vms[i]);
        counted += a.vms[i].valid;
        for (unsigned j = 0; j < i; j++)
            REQUIRE(strcmp(a.vms[i].name, a.vms[j].name) != 0);
    }
    REQUIRE(counted == valid);
    if (a.errors.count == 0)
        REQUIRE((unsigned)valid == a.vm_count);
    for (unsigned i = 0; i < a.errors.count && i < MANIFEST_MAX_ERRORS; i++) {
        const struct manifest_error *e = &a.errors.list[i];
        require_terminated(e->text, sizeof(e->text));
        REQUIRE(strncmp(e->text, "manifest line ", 14) == 0 && e->line >= 1);
        REQUIRE(strlen(e->text) < MANIFEST_MSG_MAX - 1); /* never cut short */
    }
    /* Deterministic, and blind to bytes past size. */
    REQUIRE(manifest_parse((const char *)data, size, &b) == valid);
    REQUIRE(memcmp(&a, &b, sizeof(a)) == 0);
    return 0;
}
