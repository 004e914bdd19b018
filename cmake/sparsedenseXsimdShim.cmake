# Debian's xsimd 8 package exports a target that links `xtl` (its optional complex-number support) without
# finding it, so linking xsimd fails with "cannot find -lxtl". sparsedense never uses xsimd's xtl support:
# when no `xtl` target exists, define an empty one so the link line stays clean.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_sparsedense_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_sparsedense_xsimd_links MATCHES "(^|;)xtl(;|$)")
    add_library(xtl INTERFACE IMPORTED)
  endif()
  unset(_sparsedense_xsimd_links)
endif()
