# SPDX-License-Identifier: MIT
# Command-line tests: the option parser (unit) and the whole program's answer
# to bad input (exit status 1, one "bt386: ..." line on stderr).
bt386_unit_test(test_options test_options.c bt386_options)

set(BT386_CLI_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/cli)
set(BT386_CLI_TMP ${CMAKE_CURRENT_BINARY_DIR}/cli-tmp)
set(BT386_FIRSTLIGHT ${CMAKE_BINARY_DIR}/guest-images/firstlight.elf)

# bt386_cli_error(NAME REGEX [FIXTURES words...] ARGS words... [NEEDS files...])
# runs bt386 ARGS in a fresh directory cli-tmp/NAME holding the fixtures (see
# cli/expect-error.sh) and expects a clean failure whose message matches
# REGEX. Tests whose NEEDS files are not built yet show as "Not Run".
function(bt386_cli_error name regex)
    cmake_parse_arguments(PARSE_ARGV 2 CLI "" "" "FIXTURES;ARGS;NEEDS")
    add_test(NAME ${name}
             COMMAND bash ${BT386_CLI_SCRIPTS}/expect-error.sh
                     $<TARGET_FILE:bt386> ${BT386_CLI_TMP}/${name} ${regex}
                     ${CLI_FIXTURES} -- ${CLI_ARGS})
    set_tests_properties(${name} PROPERTIES
                         LABELS cli
                         TIMEOUT 60
                         SKIP_RETURN_CODE 77
                         ENVIRONMENT "BT386_CC=${CMAKE_C_COMPILER}")
    if(CLI_NEEDS)
        set_tests_properties(${name} PROPERTIES REQUIRED_FILES "${CLI_NEEDS}")
    endif()
endfunction()

# bt386_cli_output(NAME REGEXES regex... ARGS words...) expects exit status 0,
# an empty stderr, and a stdout line matching each regex.
function(bt386_cli_output name)
    cmake_parse_arguments(PARSE_ARGV 1 CLI "" "" "REGEXES;ARGS")
    add_test(NAME ${name}
             COMMAND bash ${BT386_CLI_SCRIPTS}/expect-output.sh
                     $<TARGET_FILE:bt386> ${BT386_CLI_TMP}/${name}
                     ${CLI_REGEXES} -- ${CLI_ARGS})
    set_tests_properties(${name} PROPERTIES LABELS cli TIMEOUT 60)
endfunction()

# Bad command lines: the parser's messages, word for word.
bt386_cli_error(cli_unknown_option
    "^bt386: unknown option '-foo' \\(see --help\\)$"
    ARGS -foo -kernel k.elf)
bt386_cli_error(cli_missing_argument
    "^bt386: option '-kernel' needs an argument$"
    ARGS -m 64 -kernel)
bt386_cli_error(cli_memory_malformed
    "^bt386: -m: invalid size 'xyz'$"
    ARGS -m xyz -kernel k.elf)
bt386_cli_error(cli_memory_out_of_range
    "^bt386: -m: 9999 MiB is out of range \\(2 to 3072 MiB\\)$"
    ARGS -m 9999 -kernel k.elf)
bt386_cli_error(cli_memory_overflow
    "^bt386: -m: '99999999999999999999G' is out of range \\(2 to 3072 MiB\\)$"
    ARGS -m 99999999999999999999G -kernel k.elf)
bt386_cli_error(cli_not_implemented_cdrom
    "^bt386: option '-cdrom' is not implemented yet$"
    ARGS -kernel k.elf -cdrom x.iso)
bt386_cli_error(cli_stray_argument
    "^bt386: unexpected argument 'disk\\.img' \\(for a disk image, use -hda FILE\\)$"
    ARGS disk.img)
bt386_cli_error(cli_serial_unsupported
    "^bt386: -serial: 'pty' is not supported \\(use stdio, null, none or file:PATH\\)$"
    ARGS -kernel k.elf -serial pty)
bt386_cli_error(cli_display_not_implemented
    "^bt386: -display: 'sdl' is not implemented yet$"
    ARGS -kernel k.elf -display sdl)
bt386_cli_error(cli_device_unsupported
    "^bt386: -device: 'e1000' is not supported$"
    ARGS -kernel k.elf -device e1000,netdev=n0)
bt386_cli_error(cli_device_bad_property
    "^bt386: -device isa-debug-exit: unknown property 'foo'$"
    ARGS -kernel k.elf -device isa-debug-exit,foo=1)
bt386_cli_error(cli_no_kernel
    "^bt386: no kernel given \\(use -kernel FILE. see --help\\)$"
    ARGS -m 64 -nographic)

# Bad kernels and modules: the loader's messages.
bt386_cli_error(cli_kernel_missing
    "^bt386: kernel 'no-such\\.elf': No such file or directory$"
    ARGS -kernel no-such.elf -display none)
bt386_cli_error(cli_kernel_directory
    "^bt386: kernel 'kdir': Is a directory$"
    FIXTURES --dir kdir
    ARGS -kernel kdir -display none)
bt386_cli_error(cli_kernel_empty
    "^bt386: kernel 'empty\\.elf': no Multiboot header in the first 8192 bytes$"
    FIXTURES --empty empty.elf
    ARGS -kernel empty.elf -display none)
bt386_cli_error(cli_kernel_random
    "^bt386: kernel 'noise\\.bin': no Multiboot header in the first 8192 bytes$"
    FIXTURES --random noise.bin
    ARGS -kernel noise.bin -display none)
bt386_cli_error(cli_kernel_truncated
    "^bt386: kernel 'half\\.elf': (truncated|no Multiboot header)"
    FIXTURES --head half.elf ${BT386_FIRSTLIGHT} half
    ARGS -kernel half.elf -display none
    NEEDS ${BT386_FIRSTLIGHT})
bt386_cli_error(cli_kernel_truncated_header
    "^bt386: kernel 'head\\.elf': (truncated|no Multiboot header)"
    FIXTURES --head head.elf ${BT386_FIRSTLIGHT} 64
    ARGS -kernel head.elf -display none
    NEEDS ${BT386_FIRSTLIGHT})
bt386_cli_error(cli_kernel_x86_64
    "^bt386: kernel 'k64\\.elf': .*(32-bit|64-bit|x86-64)"
    FIXTURES --elf64 k64.elf
    ARGS -kernel k64.elf -display none)
bt386_cli_error(cli_initrd_missing
    "^bt386: initrd '.*': No such file or directory$"
    ARGS -kernel ${BT386_FIRSTLIGHT} -initrd no-such.bin -display none
    NEEDS ${BT386_FIRSTLIGHT})

# Asking for the manual or the version is not an error.
bt386_cli_output(cli_help
    REGEXES "^SYNOPSIS$" "^ +bt386 \\[OPTIONS\\] -kernel FILE$" "^EXIT STATUS$"
    ARGS --help)
bt386_cli_output(cli_help_short
    REGEXES "^SYNOPSIS$"
    ARGS -h)
bt386_cli_output(cli_version
    REGEXES "^bt386 ${PROJECT_VERSION}$"
    ARGS --version)
