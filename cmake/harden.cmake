# Hardening every program gets by default (MTS_HARDEN): the scanner parses bytes from any
# host on the Internet, so a memory bug should end in an abort, not in control of the
# process. tests/hardening_check.sh verifies the result in the built binaries.
include(CheckCCompilerFlag)
include(CheckCSourceCompiles)
include(CheckPIESupported)

foreach(flag -fstack-protector-strong -fstack-clash-protection)
  string(MAKE_C_IDENTIFIER "MTS_HAS${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()

# _FORTIFY_SOURCE needs optimisation (glibc warns without it), so Debug builds go without.
# Level 3 checks sizes known only at run time; it needs __builtin_dynamic_object_size. The
# sanitizers check every access themselves and do not intercept the _chk variants.
set(MTS_FORTIFY_LEVEL 0)
if(NOT MTS_SANITIZE AND NOT MTS_FUZZ)
  check_c_source_compiles(
    "int main(int c, char **v) { return (int)__builtin_dynamic_object_size(v[c - 1], 0); }"
    MTS_HAS_DYNAMIC_OBJECT_SIZE)
  if(MTS_HAS_DYNAMIC_OBJECT_SIZE)
    set(MTS_FORTIFY_LEVEL 3)
  else()
    set(MTS_FORTIFY_LEVEL 2)
  endif()
  add_compile_options("$<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=${MTS_FORTIFY_LEVEL}>")
endif()

check_pie_supported(LANGUAGES C)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-Wl,-z,relro,-z,now -Wl,-z,noexecstack)
