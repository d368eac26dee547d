/* What a physical device can do, read into the public vkq_device_info report. */
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vkq__device_has_extension(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *props = calloc(n ? n : 1, sizeof *props);
    if (!props) return false;
    bool found = false;
    if (vkEnumerateDeviceExtensionProperties(phys, NULL, &n, props) == VK_SUCCESS) {
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].extensionName, name);
    }
    free(props);
    return found;
}

static vkq_device_type device_type(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return VKQ_DEVICE_TYPE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return VKQ_DEVICE_TYPE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return VKQ_DEVICE_TYPE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return VKQ_DEVICE_TYPE_CPU;
    default: return VKQ_DEVICE_TYPE_OTHER;
    }
}

static void query_memory(VkPhysicalDevice phys, vkq_device_info *info) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(phys, &mp);
    info->heap_count = VKQ__MIN(mp.memoryHeapCount, (uint32_t)VKQ_MAX_HEAPS);
    for (uint32_t h = 0; h < info->heap_count; h++) {
        info->heaps[h].size = mp.memoryHeaps[h].size;
        info->heaps[h].device_local =
            (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
    for (uint32_t t = 0; t < mp.memoryTypeCount; t++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
        bool both = (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
                    (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        uint32_t h = mp.memoryTypes[t].heapIndex;
        if (both && h < info->heap_count) info->heaps[h].host_visible = 1;
        if (both) info->device_local_host_visible = 1;
    }
}

static void query_queue(VkPhysicalDevice phys, vkq_device_info *info) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q) return;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, q);
    for (uint32_t i = 0; i < n; i++) {
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            info->timestamps = q[i].timestampValidBits > 0;
            break;
        }
    }
    free(q);
}

static void query_coopmat(VkInstance instance, VkPhysicalDevice phys, vkq_device_info *info) {
#ifdef VK_KHR_cooperative_matrix
    if (!info->cooperative_matrix) return;
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR get =
        (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)vkGetInstanceProcAddr(
            instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    if (!get) return;
    uint32_t n = 0;
    if (get(phys, &n, NULL) != VK_SUCCESS || n == 0) return;
    VkCooperativeMatrixPropertiesKHR *p = calloc(n, sizeof *p);
    if (!p) return;
    for (uint32_t i = 0; i < n; i++) p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
    if (get(phys, &n, p) == VK_SUCCESS) {
        for (uint32_t i = 0; i < n && info->coopmat_shape_count < VKQ_MAX_COOPMAT_SHAPES; i++) {
            if (p[i].scope != VK_SCOPE_SUBGROUP_KHR) continue;
            vkq_coopmat_shape *s = &info->coopmat_shapes[info->coopmat_shape_count++];
            s->m = p[i].MSize, s->n = p[i].NSize, s->k = p[i].KSize;
            s->a_type = p[i].AType, s->c_type = p[i].CType;
        }
    }
    free(p);
#else
    /* Built against Vulkan headers older than VK_KHR_cooperative_matrix: shapes stay unknown. */
    (void)instance;
    (void)phys;
    (void)info;
#endif
}

void vkq__caps_query(VkInstance instance, VkPhysicalDevice phys, vkq_device_info *info) {
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(phys, &base);
    uint32_t api = base.apiVersion;
    bool v12 = api >= VK_API_VERSION_1_2, v13 = api >= VK_API_VERSION_1_3;

    bool has_sgsc = v13 || vkq__device_has_extension(phys, "VK_EXT_subgroup_size_control");
    bool has_f16i8 = v12 || vkq__device_has_extension(phys, "VK_KHR_shader_float16_int8");
    bool has_s8 = v12 || vkq__device_has_extension(phys, "VK_KHR_8bit_storage");
    bool has_dot = v13 || vkq__device_has_extension(phys, "VK_KHR_shader_integer_dot_product");
    bool has_driver = v12 || vkq__device_has_extension(phys, "VK_KHR_driver_properties");
    info->cooperative_matrix = vkq__device_has_extension(phys, "VK_KHR_cooperative_matrix");

    /* Properties: chain only structures the device knows (version or extension). */
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlProperties sgsc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceShaderIntegerDotProductProperties dotp = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    sg.pNext = &m3;
    void **tail = &m3.pNext;
    if (has_sgsc) *tail = &sgsc, tail = &sgsc.pNext;
    if (has_driver) *tail = &drv, tail = &drv.pNext;
    if (has_dot) *tail = &dotp, tail = &dotp.pNext;
    vkGetPhysicalDeviceProperties2(phys, &props);

    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceShaderIntegerDotProductFeatures dotf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
    VkPhysicalDeviceSubgroupSizeControlFeatures sgscf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    tail = &s16.pNext;
    if (has_s8) *tail = &s8, tail = &s8.pNext;
    if (has_f16i8) *tail = &f16, tail = &f16.pNext;
    if (has_dot) *tail = &dotf, tail = &dotf.pNext;
    if (has_sgsc) *tail = &sgscf, tail = &sgscf.pNext;
    vkGetPhysicalDeviceFeatures2(phys, &feats);

    snprintf(info->name, sizeof info->name, "%s", base.deviceName);
    if (has_driver) {
        snprintf(info->driver_name, sizeof info->driver_name, "%s", drv.driverName);
        snprintf(info->driver_info, sizeof info->driver_info, "%s", drv.driverInfo);
    }
    info->type = device_type(base.deviceType);
    info->vendor_id = base.vendorID;
    info->device_id = base.deviceID;
    info->api_version = api;
    info->driver_version = base.driverVersion;
    info->subgroup_size = sg.subgroupSize;
    info->subgroup_ops = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sg.supportedOperations : 0;
    info->subgroup_size_control = has_sgsc && sgscf.subgroupSizeControl && sgscf.computeFullSubgroups &&
                                  (sgsc.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT);
    info->subgroup_size_min = info->subgroup_size_control ? sgsc.minSubgroupSize : sg.subgroupSize;
    info->subgroup_size_max = info->subgroup_size_control ? sgsc.maxSubgroupSize : sg.subgroupSize;
    const VkPhysicalDeviceLimits *L = &base.limits;
    info->max_shared_memory = L->maxComputeSharedMemorySize;
    info->max_workgroup_invocations = L->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = L->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = L->maxComputeWorkGroupCount[i];
    }
    info->max_storage_buffer_range = L->maxStorageBufferRange;
    info->max_allocation_size = m3.maxMemoryAllocationSize;
    info->max_allocation_count = L->maxMemoryAllocationCount;
    info->min_storage_buffer_offset_alignment = (uint32_t)L->minStorageBufferOffsetAlignment;
    info->max_push_constants = L->maxPushConstantsSize;
    info->timestamp_period_ns = L->timestampPeriod;
    info->float16_arithmetic = has_f16i8 && f16.shaderFloat16;
    info->int8_arithmetic = has_f16i8 && f16.shaderInt8;
    info->storage_16bit = s16.storageBuffer16BitAccess;
    info->storage_8bit = has_s8 && s8.storageBuffer8BitAccess;
    info->integer_dot_product = has_dot && dotf.shaderIntegerDotProduct;
    info->integer_dot_4x8_packed_accelerated =
        info->integer_dot_product && dotp.integerDotProduct4x8BitPackedSignedAccelerated;
    query_memory(phys, info);
    query_queue(phys, info);
    query_coopmat(instance, phys, info);
}
