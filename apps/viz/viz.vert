#version 450
// 2D batch renderer: positions in pixels (origin top left), colour as UNORM bytes, uv into the
// font atlas (solid shapes point at its white texel).
layout(push_constant) uniform Push { vec2 inv_size; } pc; // (1 / width, 1 / height)
layout(location = 0) in vec2 in_pos;
layout(location = 1) in vec2 in_uv;
layout(location = 2) in vec4 in_color;
layout(location = 0) out vec2 v_uv;
layout(location = 1) out vec4 v_color;
void main() {
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = vec4(in_pos * pc.inv_size * 2.0 - 1.0, 0.0, 1.0);
}
