"""Pictures of play: Griddly's Vulkan renderer with the project's shaders (render), evaluation
videos with their panels (video) and replays with their browser viewer (replay)."""
