// Xen's toolstack libraries as xvf reaches them: libxl (passthrough, domains), libxlutil (xl's config and
// PCI spec parsers), xentoollog (libxl's logger) and one call of libxenctrl (which libxl itself is built
// on), loaded with dlopen when a command first needs them.
//
// Nothing here links against Xen: one xvf binary runs on Xen 4.17 (Debian 12, XCP-ng 8.3) and Xen 4.20
// (Debian 13), and `xvf list` starts without mapping Xen's libraries at all. Each function is called
// through a member of `struct xvf_xen` whose type is taken with __typeof__ from the header xvf is built
// with, so every call is checked against that header's prototype at compile time; the loader resolves
// each member by name and refuses a library that lacks one.
//
// libxl_json.h is left out on purpose: it needs yajl's headers, which libxen-dev does not pull in.
#ifndef XVF_CXENLIGHT_H
#define XVF_CXENLIGHT_H

#include <stddef.h>
#include <stdio.h>
#include <xentoollog.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>
#include <xenctrl.h>

#define XVF_XEN_FUNCTION(name) __typeof__(name) *_Nonnull name

/// The functions xvf calls, resolved from the loaded libraries.
struct xvf_xen {
    // xentoollog (found through libxenlight, which needs it)
    XVF_XEN_FUNCTION(xtl_createlogger_stdiostream);
    XVF_XEN_FUNCTION(xtl_logger_destroy);
    // libxenlight
    XVF_XEN_FUNCTION(libxl_ctx_alloc);
    XVF_XEN_FUNCTION(libxl_ctx_free);
    XVF_XEN_FUNCTION(libxl_list_domain);
    XVF_XEN_FUNCTION(libxl_dominfo_list_free);
    XVF_XEN_FUNCTION(libxl_domid_to_name);
    XVF_XEN_FUNCTION(libxl_device_pci_init);
    XVF_XEN_FUNCTION(libxl_device_pci_dispose);
    XVF_XEN_FUNCTION(libxl_device_pci_assignable_add);
    XVF_XEN_FUNCTION(libxl_device_pci_assignable_list);
    XVF_XEN_FUNCTION(libxl_device_pci_assignable_list_free);
    XVF_XEN_FUNCTION(libxl_device_pci_assignable_remove);
    XVF_XEN_FUNCTION(libxl_device_pci_add);
    XVF_XEN_FUNCTION(libxl_device_pci_remove);
    XVF_XEN_FUNCTION(libxl_device_pci_destroy);
    XVF_XEN_FUNCTION(libxl_device_pci_list);
    XVF_XEN_FUNCTION(libxl_device_pci_list_free);
    XVF_XEN_FUNCTION(libxl_physinfo_init);
    XVF_XEN_FUNCTION(libxl_physinfo_dispose);
    XVF_XEN_FUNCTION(libxl_get_physinfo);
    // libxlutil
    XVF_XEN_FUNCTION(xlu_cfg_init);
    XVF_XEN_FUNCTION(xlu_cfg_destroy);
    XVF_XEN_FUNCTION(xlu_cfg_readdata);
    XVF_XEN_FUNCTION(xlu_cfg_get_list);
    XVF_XEN_FUNCTION(xlu_cfg_get_listitem);
    XVF_XEN_FUNCTION(xlu_pci_parse_spec_string);
    // libxenctrl (loaded by libxenlight, which needs it): libxl has no call that says whether a running
    // domain was created with an IOMMU context, and Xen's own test is one domctl away.
    XVF_XEN_FUNCTION(xc_interface_open);
    XVF_XEN_FUNCTION(xc_interface_close);
    XVF_XEN_FUNCTION(xc_test_assign_device);
};

/// The Xen releases xvf loads, newest first, as their sonames spell them (libxenlight.so.4.20): release
/// `index` of `xvf_xen_release_count()`.
size_t xvf_xen_release_count(void);
const char *_Nonnull xvf_xen_release(size_t index);

/// Loads libxenlight, libxlutil and libxenctrl of one release ("4.20", as the sonames spell it) and returns
/// their functions. Returns NULL with the reason in `why`: empty when that release's libxenlight is not
/// installed, else what makes it unusable (a library or function missing). Not thread-safe: the caller
/// loads once.
const struct xvf_xen *_Nullable xvf_xen_load(const char *_Nonnull release, char *_Nonnull why, size_t why_size);

/// libxl_physinfo as the caller allocates it, with room to spare: the struct grows at its end from one
/// release to the next (4.18 added arch_capabilities), and libxl_physinfo_init clears the size of the
/// loaded library's struct, not the size of the one xvf was built with.
union xvf_physinfo {
    libxl_physinfo info;
    unsigned char room[1024];
};

/// The layout xvf was built with, for the test that holds it against what was measured on each release.
struct xvf_xen_layout {
    size_t device_pci_size, dominfo_size, physinfo_size;
    size_t device_pci_name, device_pci_vdevfn, device_pci_rdm_policy, dominfo_domain_type;
    size_t physinfo_cap_hvm_directio;
};
struct xvf_xen_layout xvf_xen_build_layout(void);

// C macros Swift cannot see through (`#if LIBXL_HAVE_…` in Swift is always false): ask C.
static inline int xvf_libxl_has_device_pci_seize(void) {
#ifdef LIBXL_HAVE_DEVICE_PCI_SEIZE
    return 1;
#else
    return 0;
#endif
}

static inline int xvf_libxl_has_device_pci_name(void) {
#ifdef LIBXL_HAVE_DEVICE_PCI_NAME
    return 1;
#else
    return 0;
#endif
}

#endif
