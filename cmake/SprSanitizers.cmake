# SPR_SANITIZE=address,undefined  or  SPR_SANITIZE=thread
if(SPR_SANITIZE)
  add_compile_options(-fsanitize=${SPR_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${SPR_SANITIZE})
endif()
