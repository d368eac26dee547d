list(APPEND VKQ_SOURCES gpu/context.c gpu/instance.c gpu/caps.c gpu/device.c gpu/memory.c
     gpu/pipeline.c gpu/command.c)
