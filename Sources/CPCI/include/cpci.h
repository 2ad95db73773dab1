// A small, exit-free surface over libpci for xvf.
//
// libpci reports fatal errors by calling acc->error, which prints and exits the process. xvf must never
// die inside a library, so every entry point here installs a handler that longjmps back and turns the
// message into a return code.
#ifndef XVF_CPCI_H
#define XVF_CPCI_H

#include <stdint.h>
#include <stddef.h>

typedef struct xvf_pci xvf_pci;

/// Opens libpci over `sysfs_bus_pci` (a `…/sys/bus/pci` directory) with the ids file `ids_path`
/// (NULL for the default). With `names_from_hwdb`, names are looked up in udev's hwdb first and pci.ids
/// is read only for an id the hwdb lacks. On failure returns NULL and copies libpci's message into `error`.
xvf_pci *xvf_pci_open(const char *sysfs_bus_pci, const char *ids_path, int names_from_hwdb, char *error,
                      size_t error_size);
void xvf_pci_close(xvf_pci *pci);

/// The ids file libpci reads names from (its default unless `ids_path` was given); "" when it has none.
const char *xvf_pci_ids_file(xvf_pci *pci);

/// Writes "Vendor" and "Device" names into the buffers, from the hwdb (`from_hwdb`; none unless opened with
/// `names_from_hwdb`) or from libpci's load of the ids file; returns 0 when both were found.
int xvf_pci_names(xvf_pci *pci, int from_hwdb, uint16_t vendor, uint16_t device, char *vendor_name,
                  size_t vendor_size, char *device_name, size_t device_size);

/// Reads the device's config space through libpci and reports where capability `id` sits:
/// `extended` 0 for the classic list, 1 for the PCIe extended list. Returns the offset, 0 when absent,
/// -1 when the device or its config space cannot be read (message in `error`).
int xvf_pci_find_cap(xvf_pci *pci, int domain, int bus, int dev, int func, unsigned id, int extended,
                     char *error, size_t error_size);

/// Reads config space at `offset` (1, 2 or 4 bytes). Returns 0 and sets *value, or -1.
int xvf_pci_read_config(xvf_pci *pci, int domain, int bus, int dev, int func, int offset, int width,
                        uint32_t *value);

#endif
