// The Xen toolstack libraries xvf calls: libxl (PCI passthrough, domains), libxlutil (xl's PCI spec
// parser) and xentoollog (libxl's logger, pointed at a memory stream so its messages become error text).
// libxl_json.h is left out on purpose: it needs yajl's headers, which libxen-dev does not pull in.
#ifndef XVF_CXENLIGHT_SHIM_H
#define XVF_CXENLIGHT_SHIM_H

#include <stdio.h>
#include <xentoollog.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>

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
