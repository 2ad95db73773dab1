// dladdr is a GNU extension of glibc's dlfcn.h.
#define _GNU_SOURCE
#include "cxenlight.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

// Run in the lab on 4.17 and 4.20. Xen's public headers at RELEASE-4.17.0 through RELEASE-4.22.0 declare
// every function resolved below with the same prototype, and libxl_types.idl gives libxl_device_pci and
// libxl_dominfo the same fields in all six; libxl_physinfo grew once, in 4.18.0 (arch_capabilities, at its
// end), which xvf_physinfo makes room for. So every release from 4.17 to 4.22 is taken. 4.16 has the same
// prototypes too but is out of Xen's security support, and 4.23 is not released: a release outside this
// list is refused by the caller with a line that names it.
static const char *const releases[] = { "4.22", "4.21", "4.20", "4.19", "4.18", "4.17" };

size_t xvf_xen_release_count(void) { return sizeof releases / sizeof releases[0]; }

const char *xvf_xen_release(size_t index) { return releases[index]; }

#define XVF_RESOLVE(handle, name)                                                                     \
    do {                                                                                              \
        void *address = dlsym(handle, #name);                                                         \
        if (!address) {                                                                               \
            snprintf(why, why_size, "%s has no function %s", library, #name);                        \
            goto refused;                                                                             \
        }                                                                                             \
        loaded->name = (__typeof__(loaded->name))address;                                             \
    } while (0)

// A library's name as dlopen is given it: the soname alone (the loader's search), or a path in `directory`.
static void name_library(char *library, size_t library_size, const char *directory, const char *stem,
                         const char *release) {
    if (directory)
        snprintf(library, library_size, "%s/%s.so.%s", directory, stem, release);
    else
        snprintf(library, library_size, "%s.so.%s", stem, release);
}

// Another library of the release libxenlight belongs to (its name in `library`, for the messages); NULL
// with the reason in `why`.
static void *open_companion(const char *directory, const char *stem, const char *release, char *library,
                            size_t library_size, char *why, size_t why_size) {
    name_library(library, library_size, directory, stem, release);
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        snprintf(why, why_size, "libxenlight.so.%s is installed but %s cannot be loaded (%s)", release, library,
                 dlerror());
    return handle;
}

int xvf_xen_load(const char *directory, const char *release, struct xvf_xen *loaded, char *why, size_t why_size) {
    why[0] = '\0';
    char library[4096];
    name_library(library, sizeof library, directory, "libxenlight", release);
    // RTLD_LOCAL: Xen's symbols stay out of the process's global scope; RTLD_NOW: a library that
    // cannot resolve its own dependencies is refused here, not half-way through a change.
    void *light = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!light) return 0;
    void *util = NULL, *control = NULL;
    XVF_RESOLVE(light, xtl_createlogger_stdiostream);
    XVF_RESOLVE(light, xtl_logger_destroy);
    XVF_RESOLVE(light, libxl_ctx_alloc);
    XVF_RESOLVE(light, libxl_ctx_free);
    XVF_RESOLVE(light, libxl_list_domain);
    XVF_RESOLVE(light, libxl_dominfo_list_free);
    XVF_RESOLVE(light, libxl_domid_to_name);
    XVF_RESOLVE(light, libxl_device_pci_init);
    XVF_RESOLVE(light, libxl_device_pci_dispose);
    XVF_RESOLVE(light, libxl_device_pci_assignable_add);
    XVF_RESOLVE(light, libxl_device_pci_assignable_list);
    XVF_RESOLVE(light, libxl_device_pci_assignable_list_free);
    XVF_RESOLVE(light, libxl_device_pci_assignable_remove);
    XVF_RESOLVE(light, libxl_device_pci_add);
    XVF_RESOLVE(light, libxl_device_pci_remove);
    XVF_RESOLVE(light, libxl_device_pci_destroy);
    XVF_RESOLVE(light, libxl_device_pci_list);
    XVF_RESOLVE(light, libxl_device_pci_list_free);
    XVF_RESOLVE(light, libxl_physinfo_init);
    XVF_RESOLVE(light, libxl_physinfo_dispose);
    XVF_RESOLVE(light, libxl_get_physinfo);

    if (!(util = open_companion(directory, "libxlutil", release, library, sizeof library, why, why_size))) goto refused;
    XVF_RESOLVE(util, xlu_cfg_init);
    XVF_RESOLVE(util, xlu_cfg_destroy);
    XVF_RESOLVE(util, xlu_cfg_readdata);
    XVF_RESOLVE(util, xlu_cfg_get_list);
    XVF_RESOLVE(util, xlu_cfg_get_listitem);
    XVF_RESOLVE(util, xlu_pci_parse_spec_string);

    if (!(control = open_companion(directory, "libxenctrl", release, library, sizeof library, why, why_size)))
        goto refused;
    XVF_RESOLVE(control, xc_interface_open);
    XVF_RESOLVE(control, xc_interface_close);
    XVF_RESOLVE(control, xc_test_assign_device);
    // The libraries stay mapped for the life of the process: `loaded` points into them.
    return 1;

refused:
    if (control) dlclose(control);
    if (util) dlclose(util);
    dlclose(light);
    return 0;
}

int xvf_xen_library_path(const struct xvf_xen *loaded, char *path, size_t path_size) {
    Dl_info info;
    char real[PATH_MAX];
    if (!dladdr((const void *)loaded->libxl_ctx_alloc, &info) || !info.dli_fname || !realpath(info.dli_fname, real))
        return 0;
    snprintf(path, path_size, "%s", real);
    return 1;
}

struct xvf_xen_layout xvf_xen_build_layout(void) {
    struct xvf_xen_layout layout = {
        .device_pci_size = sizeof(libxl_device_pci),
        .dominfo_size = sizeof(libxl_dominfo),
        .physinfo_size = sizeof(libxl_physinfo),
        .device_pci_name = offsetof(libxl_device_pci, name),
        .device_pci_vdevfn = offsetof(libxl_device_pci, vdevfn),
        .device_pci_rdm_policy = offsetof(libxl_device_pci, rdm_policy),
        .dominfo_domain_type = offsetof(libxl_dominfo, domain_type),
        .physinfo_cap_hvm_directio = offsetof(libxl_physinfo, cap_hvm_directio),
    };
    return layout;
}
