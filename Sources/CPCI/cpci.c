#include "cpci.h"

#include <dlfcn.h>
#include <pci/pci.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libpci (with the libudev and libz it brings) is loaded at the first xvf_pci_open, not at start-up:
// most commands never name a device or read its capabilities (assign, release, vfs, --version), and
// mapping three more libraries is a tenth of the start of xvf. The headers give each function's type.
#define LIBPCI_SONAME "libpci.so.3"
static struct {
    __typeof__(pci_alloc) *alloc;
    __typeof__(pci_init) *init;
    __typeof__(pci_cleanup) *cleanup;
    __typeof__(pci_set_param) *set_param;
    __typeof__(pci_set_name_list_path) *set_name_list_path;
    __typeof__(pci_lookup_name) *lookup_name;
    __typeof__(pci_get_dev) *get_dev;
    __typeof__(pci_free_dev) *free_dev;
    __typeof__(pci_read_block) *read_block;
    __typeof__(pci_fill_info) *fill_info;
    __typeof__(pci_find_cap) *find_cap;
} libpci;
static pthread_once_t libpci_once = PTHREAD_ONCE_INIT;
static char libpci_failure[256];

static void load_libpci(void) {
    void *handle = dlopen(LIBPCI_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(libpci_failure, sizeof libpci_failure, "%s cannot be loaded (%s): install libpci3", LIBPCI_SONAME,
                 dlerror());
        return;
    }
    struct { void **slot; const char *name; } symbols[] = {
        { (void **)&libpci.alloc, "pci_alloc" },
        { (void **)&libpci.init, "pci_init" },
        { (void **)&libpci.cleanup, "pci_cleanup" },
        { (void **)&libpci.set_param, "pci_set_param" },
        { (void **)&libpci.set_name_list_path, "pci_set_name_list_path" },
        { (void **)&libpci.lookup_name, "pci_lookup_name" },
        { (void **)&libpci.get_dev, "pci_get_dev" },
        { (void **)&libpci.free_dev, "pci_free_dev" },
        { (void **)&libpci.read_block, "pci_read_block" },
        { (void **)&libpci.fill_info, "pci_fill_info" },
        { (void **)&libpci.find_cap, "pci_find_cap" },
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        *symbols[i].slot = dlsym(handle, symbols[i].name);
        if (!*symbols[i].slot) {
            snprintf(libpci_failure, sizeof libpci_failure, "%s has no %s: install libpci3 3.8 or later", LIBPCI_SONAME,
                     symbols[i].name);
            memset(&libpci, 0, sizeof libpci);
            dlclose(handle);
            return;
        }
    }
}

struct xvf_pci {
    struct pci_access *acc;
    // Names from udev's hwdb alone, or NULL. libpci reads the whole pci.ids (some 40,000 entries) at the
    // first name it looks up, and only then asks the hwdb for an id pci.ids lacks. The hwdb (systemd's copy
    // of the same pci.ids, as a trie on disk) answers a name without that load: this access object's
    // names file is empty (/dev/null), so every lookup goes on to the hwdb. What the hwdb does not know,
    // the Swift side reads from pci.ids itself (PCIIDList), and asks `acc` only for a file it cannot read.
    struct pci_access *hwdb;
    char *sysfs_path;
    char *ids_path;
};

// libpci's callbacks carry no user pointer, so the jump target and message live per thread.
static _Thread_local jmp_buf *current_jump;
static _Thread_local char last_error[512];

static void __attribute__((noreturn)) on_error(char *msg, ...) {
    va_list ap;
    va_start(ap, msg);
    vsnprintf(last_error, sizeof last_error, msg, ap);
    va_end(ap);
    if (current_jump) longjmp(*current_jump, 1);
    abort(); // libpci called us outside a guarded section: a bug in this file, not a user error
}

static void on_message(char *msg, ...) { (void)msg; }

static void copy_error(char *error, size_t size) {
    if (error && size) snprintf(error, size, "%s", last_error);
}

static struct pci_access *new_access(void) {
    struct pci_access *acc = libpci.alloc();
    acc->error = on_error;
    acc->warning = on_message;
    acc->debug = on_message;
    return acc;
}

xvf_pci *xvf_pci_open(const char *sysfs_bus_pci, const char *ids_path, int names_from_hwdb, char *error,
                      size_t error_size) {
    pthread_once(&libpci_once, load_libpci);
    if (!libpci.alloc) {
        if (error && error_size) snprintf(error, error_size, "%s", libpci_failure);
        return NULL;
    }
    xvf_pci *pci = calloc(1, sizeof *pci);
    if (!pci) return NULL;
    pci->acc = new_access();
    pci->acc->method = PCI_ACCESS_SYS_BUS_PCI;
    // pci_set_param keeps the pointer, so the strings live as long as the handle.
    pci->sysfs_path = strdup(sysfs_bus_pci);
    libpci.set_param(pci->acc, "sysfs.path", pci->sysfs_path);
    if (ids_path) {
        pci->ids_path = strdup(ids_path);
        libpci.set_name_list_path(pci->acc, pci->ids_path, 0);
    }
    jmp_buf jump;
    current_jump = &jump;
    if (setjmp(jump)) {
        current_jump = NULL;
        copy_error(error, error_size);
        // The access object is half set up; freeing it could call the error handler again.
        free(pci->sysfs_path);
        free(pci->ids_path);
        free(pci);
        return NULL;
    }
    libpci.init(pci->acc);
    if (names_from_hwdb) {
        // Only names are looked up through it; it reaches no device.
        pci->hwdb = new_access();
        libpci.set_name_list_path(pci->hwdb, "/dev/null", 0);
    }
    current_jump = NULL;
    return pci;
}

void xvf_pci_close(xvf_pci *pci) {
    if (!pci) return;
    jmp_buf jump;
    current_jump = &jump;
    if (!setjmp(jump)) {
        if (pci->hwdb) libpci.cleanup(pci->hwdb);
        libpci.cleanup(pci->acc);
    }
    current_jump = NULL;
    free(pci->sysfs_path);
    free(pci->ids_path);
    free(pci);
}

const char *xvf_pci_ids_file(xvf_pci *pci) { return pci->acc->id_file_name ? pci->acc->id_file_name : ""; }

int xvf_pci_names(xvf_pci *pci, int from_hwdb, uint16_t vendor, uint16_t device, char *vendor_name,
                  size_t vendor_size, char *device_name, size_t device_size) {
    vendor_name[0] = 0;
    device_name[0] = 0;
    struct pci_access *acc = from_hwdb ? pci->hwdb : pci->acc;
    if (!acc) return 1;
    jmp_buf jump;
    current_jump = &jump;
    if (setjmp(jump)) {
        current_jump = NULL;
        vendor_name[0] = 0;
        device_name[0] = 0;
        return -1;
    }
    // PCI_LOOKUP_NO_NUMBERS makes a missing entry come back as NULL instead of a made-up "Device 1234".
    char *v = libpci.lookup_name(acc, vendor_name, (int)vendor_size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
                                 (int)vendor);
    char *d = libpci.lookup_name(acc, device_name, (int)device_size, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
                                 (int)vendor, (int)device);
    current_jump = NULL;
    if (v != vendor_name && v) snprintf(vendor_name, vendor_size, "%s", v);
    if (d != device_name && d) snprintf(device_name, device_size, "%s", d);
    if (!v) vendor_name[0] = 0;
    if (!d) device_name[0] = 0;
    return (v && d) ? 0 : 1;
}

static struct pci_dev *get_dev(xvf_pci *pci, int domain, int bus, int dev, int func) {
    return libpci.get_dev(pci->acc, domain, bus, dev, func);
}

int xvf_pci_find_cap(xvf_pci *pci, int domain, int bus, int dev, int func, unsigned id, int extended,
                     char *error, size_t error_size) {
    struct pci_dev *volatile d = NULL;
    jmp_buf jump;
    current_jump = &jump;
    if (setjmp(jump)) {
        current_jump = NULL;
        copy_error(error, error_size);
        return -1;
    }
    d = get_dev(pci, domain, bus, dev, func);
    // Reading the header proves the config space is there before walking capability lists.
    uint8_t header[64];
    if (!libpci.read_block(d, 0, header, sizeof header)) {
        current_jump = NULL;
        snprintf(error, error_size, "cannot read the config space of %04x:%02x:%02x.%x", domain, bus, dev, func);
        libpci.free_dev(d);
        return -1;
    }
    libpci.fill_info(d, PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
    struct pci_cap *cap = libpci.find_cap(d, id, extended ? PCI_CAP_EXTENDED : PCI_CAP_NORMAL);
    int where = cap ? cap->addr : 0;
    libpci.free_dev(d);
    current_jump = NULL;
    return where;
}

int xvf_pci_read_config(xvf_pci *pci, int domain, int bus, int dev, int func, int offset, int width,
                        uint32_t *value) {
    struct pci_dev *volatile d = NULL;
    jmp_buf jump;
    current_jump = &jump;
    if (setjmp(jump)) {
        current_jump = NULL;
        return -1;
    }
    d = get_dev(pci, domain, bus, dev, func);
    uint8_t bytes[4] = {0};
    int ok = libpci.read_block(d, offset, bytes, width);
    libpci.free_dev(d);
    current_jump = NULL;
    if (!ok) return -1;
    *value = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
    return 0;
}
