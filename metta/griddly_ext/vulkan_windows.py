"""The egocentric-window computation of ``metta.griddly_ext.windows`` as a Vulkan compute shader.

The same bytes as ``NumpyWindows`` (the contract is that module's docstring), computed by
``shaders/egocentric_windows.comp`` on any Vulkan device: a GPU on a training box, Mesa's
lavapipe on a CPU-only machine. Everything Vulkan needs is created once, sized from the
layout and the number of agents: instance, device, pipeline, descriptor set, one host-visible
buffer and a command buffer recorded once. A render writes the inputs into the mapped buffer,
resubmits that command buffer, waits on a fence and copies the windows out; nothing Vulkan is
allocated per step.

Bytes travel packed four to a 32-bit word, so no optional 8-bit storage feature is needed.
The committed SPIR-V is compiled with fixed flags (a test checks it is current):

    glslc -O --target-env=vulkan1.0 -o shaders/egocentric_windows.spv shaders/egocentric_windows.comp
"""
from __future__ import annotations

import os

import numpy as np

from metta.griddly_ext.windows import WindowLayout

SHADER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "shaders", "egocentric_windows.spv")
_INSTALL = ("install the Vulkan loader and a driver: on Debian/Ubuntu `apt-get install libvulkan1 "
            "mesa-vulkan-drivers` (mesa-vulkan-drivers brings lavapipe, which runs on the CPU), "
            "or your GPU vendor's Vulkan driver")
_GROUP = 64  # local_size_x of the shader
_BINDINGS = 6  # global view, poses, tables, keep, ids, windows: the shader's bindings 0..5


class VulkanUnavailable(RuntimeError):
    """No usable Vulkan: the loader, a driver (ICD) or a device with a compute queue is missing."""


def _vulkan():
    """The ``vulkan`` module; importing it loads ``libvulkan.so.1``, so a missing loader surfaces here."""
    try:
        import vulkan
    except ImportError as err:
        raise VulkanUnavailable(f"the Python package 'vulkan' is not installed ({err}); "
                                "it is a dependency of this project: reinstall it") from err
    except OSError as err:
        raise VulkanUnavailable(f"the Vulkan loader libvulkan.so.1 is missing or cannot be loaded; {_INSTALL}") from err
    return vulkan


def _driver_env() -> str:
    """The loader's driver-selection variables when set: the usual reason a driver is not found."""
    set_ = [f"{k}={os.environ[k]}" for k in ("VK_ICD_FILENAMES", "VK_DRIVER_FILES", "VK_ADD_DRIVER_FILES")
            if os.environ.get(k)]
    return f" (the environment sets {', '.join(set_)}, which tells the loader where to look)" if set_ else ""


class VulkanWindows:
    """``NumpyWindows.render`` on a Vulkan device, over persistent buffers and one recorded command buffer.

    ``device_index`` picks a physical device in the loader's order; by default the first
    discrete GPU, else any device with a compute queue. ``device_name`` says which was taken.
    """

    name = "vulkan"

    # the mapped buffer and the views of its sections; None once closed (the views go before the memory is unmapped)
    _mapped: np.ndarray | None
    _global: np.ndarray | None
    _poses: np.ndarray | None
    _table: np.ndarray | None
    _fill: np.ndarray | None
    _windows: np.ndarray | None

    def __init__(self, layout: WindowLayout, num_agents: int, device_index: int | None = None):
        self._cleanup: list = []  # destroy calls, in creation order; close() runs them backwards
        self.layout = layout
        self.n = n = int(num_agents)
        self.vk = vk = _vulkan()
        W, H, Cg = layout.grid_width, layout.grid_height, layout.global_channels
        K, w, h = len(layout.keep), layout.window_width, layout.window_height
        try:
            self._open_device(device_index)
            # one buffer, six aligned sections: the shader's bindings 0..5
            sizes = [H * W * Cg, 3 * n * 4, n * (n + 1) + n, max(K, 1) * 4, H * W * 4, n * h * w * (K + 2)]
            limits = vk.vkGetPhysicalDeviceProperties(self.physical_device).limits
            align = max(int(limits.minStorageBufferOffsetAlignment), 16)
            offsets, ranges, end = [], [], 0
            for size in sizes:
                offsets.append(end)
                ranges.append(-(-max(size, 4) // 4) * 4)
                end = -(-(end + ranges[-1]) // align) * align
            if max(ranges) > limits.maxStorageBufferRange:
                raise ValueError(f"{self.device_name} binds at most {limits.maxStorageBufferRange} bytes per "
                                 f"buffer; {layout} with {n} agents needs {max(ranges)}")
            self._create_buffer(end)
            self._create_pipeline(offsets, ranges, [W, H, Cg, K, w, h, n, int(layout.rotate)])
            self._record([W * H, n, -(-n * h * w // 4)], int(limits.maxComputeWorkGroupCount[0]))
        except vk.VkError as err:
            self.close()
            raise VulkanUnavailable(f"Vulkan failed on {getattr(self, 'device_name', 'device creation')}: "
                                    f"{type(err).__name__}{_driver_env()}; {_INSTALL}") from err
        except BaseException:
            self.close()
            raise
        mem = self._mapped
        assert mem is not None  # _create_buffer mapped it
        view = [mem[o:o + s] for o, s in zip(offsets, sizes)]
        self._global = view[0].reshape(H, W, Cg)  # Griddly's memory order
        self._poses = view[1].view(np.int32).reshape(3, n)
        self._table = view[2][:n * (n + 1)].reshape(n, n + 1)
        self._fill = view[2][n * (n + 1):]
        view[3].view(np.uint32)[:K] = layout.keep
        self._windows = view[5].reshape(n, h, w, K + 2)

    # ------------------------------------------------------------------ setup
    def _open_device(self, device_index: int | None) -> None:
        vk = self.vk
        app = vk.VkApplicationInfo(pApplicationName="metta", applicationVersion=1, pEngineName="metta",
                                   engineVersion=1, apiVersion=vk.VK_API_VERSION_1_0)
        try:
            self.instance = vk.vkCreateInstance(vk.VkInstanceCreateInfo(pApplicationInfo=app), None)
        except (vk.VkErrorIncompatibleDriver, vk.VkErrorInitializationFailed) as err:
            raise VulkanUnavailable(f"the Vulkan loader found no driver (ICD){_driver_env()}; "
                                    f"{_INSTALL}") from err
        self._cleanup.append(lambda: vk.vkDestroyInstance(self.instance, None))
        devices = list(vk.vkEnumeratePhysicalDevices(self.instance))
        if not devices:
            raise VulkanUnavailable(f"the Vulkan loader lists no device{_driver_env()}; {_INSTALL}")
        described = []
        for index, dev in enumerate(devices):
            props = vk.vkGetPhysicalDeviceProperties(dev)
            family = next((f for f, q in enumerate(vk.vkGetPhysicalDeviceQueueFamilyProperties(dev))
                           if q.queueCount > 0 and q.queueFlags & vk.VK_QUEUE_COMPUTE_BIT), None)
            described.append((index, dev, props.deviceName, int(props.deviceType), family))
        if device_index is not None:
            if not 0 <= device_index < len(devices):
                raise ValueError(f"device_index {device_index} is out of range: the Vulkan loader lists "
                                 f"{len(devices)} device(s): {[d[2] for d in described]}")
            described = [described[device_index]]
        preference = [vk.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, vk.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
                      vk.VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU, vk.VK_PHYSICAL_DEVICE_TYPE_OTHER,
                      vk.VK_PHYSICAL_DEVICE_TYPE_CPU]
        usable = sorted((d for d in described if d[4] is not None),
                        key=lambda d: (preference.index(d[3]) if d[3] in preference else len(preference), d[0]))
        if not usable:
            raise VulkanUnavailable(f"no Vulkan device with a compute queue among {[d[2] for d in described]}; "
                                    f"{_INSTALL}")
        _, self.physical_device, self.device_name, _, family = usable[0]
        queue_info = vk.VkDeviceQueueCreateInfo(queueFamilyIndex=family, queueCount=1, pQueuePriorities=[1.0])
        self.device = vk.vkCreateDevice(self.physical_device, vk.VkDeviceCreateInfo(
            queueCreateInfoCount=1, pQueueCreateInfos=[queue_info]), None)
        self._cleanup.append(lambda: vk.vkDestroyDevice(self.device, None))
        self.queue = vk.vkGetDeviceQueue(self.device, family, 0)
        self._family = family

    def _create_buffer(self, size: int) -> None:
        """One host-visible, host-coherent buffer, mapped for the object's lifetime.

        Among the memory types that qualify, a host-cached one is preferred (the windows are
        read back by the CPU every step), then a device-local one.
        """
        vk, dev = self.vk, self.device
        self._buffer = vk.vkCreateBuffer(dev, vk.VkBufferCreateInfo(
            size=size, usage=vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE), None)
        self._cleanup.append(lambda: vk.vkDestroyBuffer(dev, self._buffer, None))
        need = vk.vkGetBufferMemoryRequirements(dev, self._buffer)
        types = vk.vkGetPhysicalDeviceMemoryProperties(self.physical_device)
        wanted = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
        candidates = [(-2 * bool(t.propertyFlags & vk.VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                       - bool(t.propertyFlags & vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT), i)
                      for i, t in enumerate(types.memoryTypes[0:types.memoryTypeCount])
                      if need.memoryTypeBits >> i & 1 and t.propertyFlags & wanted == wanted]
        self._memory = vk.vkAllocateMemory(dev, vk.VkMemoryAllocateInfo(
            allocationSize=need.size, memoryTypeIndex=min(candidates)[1]), None)
        self._cleanup.append(lambda: vk.vkFreeMemory(dev, self._memory, None))
        vk.vkBindBufferMemory(dev, self._buffer, self._memory, 0)
        self._mapping = vk.vkMapMemory(dev, self._memory, 0, size, 0)
        self._cleanup.append(lambda: vk.vkUnmapMemory(dev, self._memory))
        self._mapped = mapped = np.frombuffer(self._mapping, dtype=np.uint8)
        mapped[:] = 0

    def _create_pipeline(self, offsets: list[int], ranges: list[int], constants: list[int]) -> None:
        """The compute pipeline, its sizes given as the shader's specialization constants 0..7."""
        vk, dev = self.vk, self.device
        storage, compute = vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, vk.VK_SHADER_STAGE_COMPUTE_BIT
        with open(SHADER, "rb") as f:
            self._spirv = f.read()
        module = vk.vkCreateShaderModule(dev, vk.VkShaderModuleCreateInfo(
            codeSize=len(self._spirv), pCode=self._spirv), None)
        self._cleanup.append(lambda: vk.vkDestroyShaderModule(dev, module, None))
        self._set_layout = vk.vkCreateDescriptorSetLayout(dev, vk.VkDescriptorSetLayoutCreateInfo(pBindings=[
            vk.VkDescriptorSetLayoutBinding(binding=b, descriptorType=storage, descriptorCount=1, stageFlags=compute)
            for b in range(_BINDINGS)]), None)
        self._cleanup.append(lambda: vk.vkDestroyDescriptorSetLayout(dev, self._set_layout, None))
        self._layout = vk.vkCreatePipelineLayout(dev, vk.VkPipelineLayoutCreateInfo(
            pSetLayouts=[self._set_layout],
            pPushConstantRanges=[vk.VkPushConstantRange(stageFlags=compute, offset=0, size=4)]), None)
        self._cleanup.append(lambda: vk.vkDestroyPipelineLayout(dev, self._layout, None))
        self._constants = vk.ffi.new("uint32_t[]", constants)
        special = vk.VkSpecializationInfo(pMapEntries=[vk.VkSpecializationMapEntry(constantID=i, offset=4 * i, size=4)
                                                       for i in range(len(constants))],
                                          dataSize=4 * len(constants), pData=self._constants)
        stage = vk.VkPipelineShaderStageCreateInfo(stage=compute, module=module, pName="main",
                                                   pSpecializationInfo=special)
        self._pipeline = vk.vkCreateComputePipelines(dev, None, 1, [vk.VkComputePipelineCreateInfo(
            stage=stage, layout=self._layout)], None)[0]
        self._cleanup.append(lambda: vk.vkDestroyPipeline(dev, self._pipeline, None))
        self._pool = vk.vkCreateDescriptorPool(dev, vk.VkDescriptorPoolCreateInfo(
            maxSets=1, pPoolSizes=[vk.VkDescriptorPoolSize(type=storage, descriptorCount=_BINDINGS)]), None)
        self._cleanup.append(lambda: vk.vkDestroyDescriptorPool(dev, self._pool, None))
        self._set = vk.vkAllocateDescriptorSets(dev, vk.VkDescriptorSetAllocateInfo(
            descriptorPool=self._pool, pSetLayouts=[self._set_layout]))[0]
        vk.vkUpdateDescriptorSets(dev, _BINDINGS, [vk.VkWriteDescriptorSet(
            dstSet=self._set, dstBinding=b, descriptorCount=1, descriptorType=storage,
            pBufferInfo=[vk.VkDescriptorBufferInfo(buffer=self._buffer, offset=o, range=r)])
            for b, (o, r) in enumerate(zip(offsets, ranges))], 0, None)

    def _record(self, work: list[int], max_groups: int) -> None:
        """The three phases (clear ids, place agents, cut windows) with barriers, recorded once."""
        vk, dev = self.vk, self.device
        self._commands = vk.vkCreateCommandPool(dev, vk.VkCommandPoolCreateInfo(queueFamilyIndex=self._family), None)
        self._cleanup.append(lambda: vk.vkDestroyCommandPool(dev, self._commands, None))
        cmd = vk.vkAllocateCommandBuffers(dev, vk.VkCommandBufferAllocateInfo(
            commandPool=self._commands, level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, commandBufferCount=1))[0]
        shader = vk.VK_ACCESS_SHADER_READ_BIT | vk.VK_ACCESS_SHADER_WRITE_BIT
        compute = vk.VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
        vk.vkBeginCommandBuffer(cmd, vk.VkCommandBufferBeginInfo())
        vk.vkCmdBindPipeline(cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, self._pipeline)
        vk.vkCmdBindDescriptorSets(cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, self._layout, 0, 1, [self._set], 0, None)
        for phase, items in enumerate(work):
            vk.vkCmdPushConstants(cmd, self._layout, vk.VK_SHADER_STAGE_COMPUTE_BIT, 0, 4,
                                  vk.ffi.new("uint32_t[]", [phase]))
            vk.vkCmdDispatch(cmd, max(1, min(-(-items // _GROUP), max_groups)), 1, 1)
            last = phase == len(work) - 1  # the windows go to the host; ids to the next phase
            barrier = vk.VkMemoryBarrier(srcAccessMask=vk.VK_ACCESS_SHADER_WRITE_BIT,
                                         dstAccessMask=vk.VK_ACCESS_HOST_READ_BIT if last else shader)
            vk.vkCmdPipelineBarrier(cmd, compute, vk.VK_PIPELINE_STAGE_HOST_BIT if last else compute, 0,
                                    1, [barrier], 0, None, 0, None)
        vk.vkEndCommandBuffer(cmd)
        self._fence = vk.vkCreateFence(dev, vk.VkFenceCreateInfo(), None)
        self._cleanup.append(lambda: vk.vkDestroyFence(dev, self._fence, None))
        self._cleanup.append(lambda: vk.vkDeviceWaitIdle(dev))  # runs first: nothing in flight when destroying
        self._fences = vk.ffi.new("VkFence[1]", [self._fence])  # built once: render passes them as they are
        self._submit = vk.VkSubmitInfo(pCommandBuffers=[cmd])  # owns the array its pointer refers to
        self._submits = vk.ffi.new("VkSubmitInfo[1]", [self._submit])

    # ------------------------------------------------------------------ per step
    def render(self, global_obs: np.ndarray, x: np.ndarray, y: np.ndarray, orientation: np.ndarray,
               agent_table: np.ndarray, observer_fill: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``NumpyWindows.render``: into ``out`` if given, else a new array (the mapped memory is reused)."""
        glob, poses, table, fill, windows = self._global, self._poses, self._table, self._fill, self._windows
        if not self._cleanup or glob is None or poses is None or table is None or fill is None or windows is None:
            raise RuntimeError("VulkanWindows.render after close()")
        if global_obs.shape != glob.shape[::-1]:
            raise ValueError(f"global_obs has shape {global_obs.shape}, the layout expects {glob.shape[::-1]}")
        vk = self.vk
        glob[...] = global_obs.transpose(2, 1, 0)
        poses[0], poses[1], poses[2] = x, y, orientation
        table[...] = agent_table
        fill[...] = observer_fill
        vk.vkResetFences(self.device, 1, self._fences)
        vk.vkQueueSubmit(self.queue, 1, self._submits, self._fence)
        vk.vkWaitForFences(self.device, 1, self._fences, vk.VK_TRUE, 0xFFFFFFFFFFFFFFFF)
        if out is None:
            return windows.copy()
        out[...] = windows
        return out

    def close(self) -> None:
        """Release every Vulkan object (idempotent); the windows' memory is unmapped, so views die first."""
        cleanup, self._cleanup = getattr(self, "_cleanup", []), []
        self._global = self._poses = self._table = self._fill = self._windows = self._mapped = self._mapping = None
        for destroy in reversed(cleanup):
            destroy()

    def __del__(self):
        self.close()
