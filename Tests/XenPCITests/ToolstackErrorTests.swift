import Testing
import XenPCI

/// Which of libxl's lines xvf quotes when a call fails: the cause, as libxl 4.20 logged it in the lab.
@Suite struct ToolstackErrorTests {
    /// A failed attach ends with the device layer's generic line; the cause is the first error.
    @Test func theCauseIsTheFirstErrorNotTheGenericLastOne() {
        let error = ToolstackError(operation: "libxl_device_pci_add", code: ToolstackError.fail, log: [
            "libxl: error: libxl_pci.c:1540:pci_add_dm_done: Domain 5:xc_assign_device failed",
            "libxl: error: libxl_device.c:1500:device_addrm_aocomplete: unable to add device",
        ])
        #expect(error.description == "libxl_device_pci_add failed (ERROR_FAIL): "
                + "libxl: error: libxl_pci.c:1540:pci_add_dm_done: Domain 5:xc_assign_device failed")
    }

    /// xl's own failure: Xen's refusal comes first, libxl's report of the failed save after it.
    @Test func xlsFailedMigrationNamesLogDirty() {
        let error = ToolstackError(operation: "xl migrate", code: ToolstackError.fail, log: [
            "Saving to migration stream new xl format (info 0x3/0x0/1636)",
            "xc: error: Failed to enable logdirty: 22,0,22 (22 = Invalid argument): Internal error",
            "libxl: error: libxl_stream_write.c:347:libxl__xc_domain_save_done: Domain 22:saving domain: "
                + "domain did not respond to suspend request: Invalid argument",
            "Migration failed, failed to suspend at sender.",
        ])
        #expect(error.reason == "xc: error: Failed to enable logdirty: 22,0,22 (22 = Invalid argument): Internal error")
    }

    /// 4.20's libxl logs an error on every HVM guest's start that fails nothing; the real cause follows.
    @Test func theDeviceModelProbeIsNoCause() {
        let error = ToolstackError(operation: "xl restore", code: ToolstackError.fail, log: [
            "libxl: error: libxl_aoutils.c:646:libxl__kill_xs_path: qemu command-line probe already exited",
            "libxl: error: libxl_create.c:1695:domcreate_rebuild_done: Domain 23:cannot (re-)build domain: -3",
        ])
        #expect(error.reason == "libxl: error: libxl_create.c:1695:domcreate_rebuild_done: Domain 23:cannot (re-)build domain: -3")
    }

    /// Without an error line, the last line is all there is (ssh's own words, say).
    @Test func withoutAnErrorLineTheLastLineIsTheReason() {
        let error = ToolstackError(operation: "xl migrate", code: ToolstackError.fail, log: [
            "ssh: Could not resolve hostname dom0-b: Name or service not known",
            "migration receiver stream: failed to read banner",
        ])
        #expect(error.reason == "migration receiver stream: failed to read banner")
        #expect(ToolstackError(operation: "libxl_list_domain", code: -3, log: []).description
                == "libxl_list_domain failed (ERROR_FAIL)")
    }
}
