# mts_add_test: how every tests/*/CMakeLists.txt registers a ctest case, so that a test's
# limits (timeout, skip code, fixtures, environment) are spelled one way everywhere.
#
#   mts_add_test(NAME COMMAND cmd [arg...]
#                [TIMEOUT seconds] [SKIP_RETURN_CODE code] [WORKING_DIRECTORY dir]
#                [LABELS label...] [ENVIRONMENT VAR=value...]
#                [FIXTURES_SETUP fixture...] [FIXTURES_REQUIRED fixture...]
#                [OWN_NETNS])
#
# OWN_NETNS runs the command in a network namespace of its own with only a loopback
# (unshare --net, needs root as the suite does): for a test whose peers answer with
# addresses off this machine, so that not even a regression can send a packet out.
function(mts_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "OWN_NETNS"
                        "TIMEOUT;SKIP_RETURN_CODE;WORKING_DIRECTORY"
                        "COMMAND;LABELS;ENVIRONMENT;FIXTURES_SETUP;FIXTURES_REQUIRED")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_COMMAND)
    message(FATAL_ERROR "mts_add_test(${name}): bad arguments '${arg_UNPARSED_ARGUMENTS}'")
  endif()
  set(command ${arg_COMMAND})
  if(arg_OWN_NETNS)
    # sh gets the command as $0 "$@": no argument is ever re-parsed by a shell.
    set(command unshare --net sh -c "ip link set lo up && exec \"$0\" \"$@\"" ${command})
  endif()
  add_test(NAME ${name} COMMAND ${command})
  if(arg_WORKING_DIRECTORY)
    set_tests_properties(${name} PROPERTIES WORKING_DIRECTORY ${arg_WORKING_DIRECTORY})
  endif()
  foreach(property TIMEOUT SKIP_RETURN_CODE LABELS ENVIRONMENT FIXTURES_SETUP
                   FIXTURES_REQUIRED)
    if(DEFINED arg_${property})
      set_tests_properties(${name} PROPERTIES ${property} "${arg_${property}}")
    endif()
  endforeach()
endfunction()
