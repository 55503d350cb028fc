# SPDX-License-Identifier: MIT
# Device unit tests: the I/O bus, the UART, debug-exit and the POST port.
bt386_unit_test(test_bus test_bus.c bt386_devices)
bt386_unit_test(test_uart test_uart.c bt386_devices)
bt386_unit_test(test_debugexit test_debugexit.c bt386_devices)
bt386_unit_test(test_pic test_pic.c bt386_devices)
bt386_unit_test(test_pit test_pit.c bt386_devices)
bt386_unit_test(test_disk test_disk.c bt386_devices)
bt386_unit_test(test_ata test_ata.c bt386_devices)
bt386_unit_test(test_pci test_pci.c bt386_devices)
bt386_unit_test(test_rtc test_rtc.c bt386_devices)
bt386_unit_test(test_acpipm test_acpipm.c bt386_devices)
bt386_unit_test(test_i8042 test_i8042.c bt386_devices)
