/* Vulkan instance, the validation layer and its messenger, the list of physical devices. */
#include "gpu/gpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *validation_layer = "VK_LAYER_KHRONOS_validation";

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    vkq_context *ctx = user;
    bool counted = (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)) &&
                   (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT);
    if (counted) atomic_fetch_add((_Atomic uint32_t *)&ctx->validation_messages, 1);
    /* The message goes to the log only: the context's last-error text belongs to the thread
     * that owns the context, and this callback may run on a driver thread. */
    vkq__log(&ctx->diag, counted ? VKQ_LOG_ERROR : VKQ_LOG_DEBUG, "validation: %s",
             data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static bool has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    if (!props) return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS) {
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].layerName, name);
    }
    free(props);
    return found;
}

static bool has_instance_extension(const VkExtensionProperties *props, uint32_t n,
                                   const char *name) {
    for (uint32_t i = 0; i < n; i++) {
        if (!strcmp(props[i].extensionName, name)) return true;
    }
    return false;
}

vkq_status vkq__instance_create(vkq_context *ctx) {
    uint32_t loader_version = VK_API_VERSION_1_0;
    vkEnumerateInstanceVersion(&loader_version);
    if (loader_version < VK_API_VERSION_1_1) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NO_DEVICE,
                         "the Vulkan loader supports only %u.%u; vkq needs 1.1",
                         VK_API_VERSION_MAJOR(loader_version),
                         VK_API_VERSION_MINOR(loader_version));
    }

    uint32_t n_ext = 0;
    vkEnumerateInstanceExtensionProperties(NULL, &n_ext, NULL);
    VkExtensionProperties *ext_props = calloc(n_ext ? n_ext : 1, sizeof *ext_props);
    if (!ext_props) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "instance: no memory");
    vkEnumerateInstanceExtensionProperties(NULL, &n_ext, ext_props);

    const char *extensions[4];
    uint32_t n_enabled = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK and other non-conformant drivers are listed only with portability enumeration. */
    if (has_instance_extension(ext_props, n_ext, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions[n_enabled++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    bool debug_utils = false;
    const char *layers[1];
    uint32_t n_layers = 0;
    if (ctx->validation) {
        if (!has_layer(validation_layer)) {
            free(ext_props);
            return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                             "validation was requested but %s is not installed "
                             "(Debian: vulkan-validationlayers)", validation_layer);
        }
        layers[n_layers++] = validation_layer;
        /* The layer itself provides debug utils even when the loader list lacks it. */
        extensions[n_enabled++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        debug_utils = true;
    }
    free(ext_props);

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkq",
        .pEngineName = "vkq",
        .engineVersion = VK_MAKE_API_VERSION(0, VKQ_VERSION_MAJOR, VKQ_VERSION_MINOR,
                                             VKQ_VERSION_PATCH),
        /* The highest version vkq uses; the device may offer less and is checked later. */
        .apiVersion = loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loader_version,
    };
    VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = ctx,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = debug_utils ? &messenger_info : NULL, /* also catches create/destroy issues */
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = n_layers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_enabled,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult r = vkCreateInstance(&info, NULL, &ctx->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        return vkq__fail(&ctx->diag, VKQ_ERR_NO_DEVICE,
                         "no Vulkan driver is installed (vkCreateInstance: "
                         "VK_ERROR_INCOMPATIBLE_DRIVER); on a machine without a GPU install "
                         "Mesa's lavapipe (Debian: mesa-vulkan-drivers)");
    }
    if (r != VK_SUCCESS) return vkq__vk_fail(ctx, r, "vkCreateInstance", "instance");

    if (debug_utils) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create) {
            return vkq__fail(&ctx->diag, VKQ_ERR_UNSUPPORTED,
                             "validation: vkCreateDebugUtilsMessengerEXT is not available");
        }
        VKQ__VK(ctx, create(ctx->instance, &messenger_info, NULL, &ctx->messenger),
                "validation messenger");
    }

    uint32_t n = 0;
    VKQ__VK(ctx, vkEnumeratePhysicalDevices(ctx->instance, &n, NULL), "device list");
    ctx->physical = calloc(n ? n : 1, sizeof *ctx->physical);
    if (!ctx->physical) return vkq__fail(&ctx->diag, VKQ_ERR_OUT_OF_HOST_MEMORY, "device list");
    VKQ__VK(ctx, vkEnumeratePhysicalDevices(ctx->instance, &n, ctx->physical), "device list");
    ctx->n_physical = n;
    return VKQ_OK;
}

void vkq__instance_destroy(vkq_context *ctx) {
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(ctx->instance, ctx->messenger, NULL);
        ctx->messenger = VK_NULL_HANDLE;
    }
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    ctx->instance = VK_NULL_HANDLE;
    free(ctx->physical);
    ctx->physical = NULL;
    ctx->n_physical = 0;
}
