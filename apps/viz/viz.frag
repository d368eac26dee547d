#version 450
// The atlas holds coverage in its red channel; the white texel gives solid fills.
layout(set = 0, binding = 0) uniform sampler2D atlas;
layout(location = 0) in vec2 v_uv;
layout(location = 1) in vec4 v_color;
layout(location = 0) out vec4 out_color;
void main() {
    out_color = vec4(v_color.rgb, v_color.a * texture(atlas, v_uv).r);
}
