// Rotary position embedding, shared by rope.comp (Q) and kv_write.comp (K, fused with the cache
// write). Pair i (0 <= i < n_rot/2) at position pos turns by
//   theta = pos * freq_scale * freq_base^(-2i/n_rot) / factor[i].
// NORMAL pairs dimensions (2i, 2i+1); NEOX pairs (i, i + n_rot/2); dimensions >= n_rot are copied.

#ifndef LAYERS_ROPE_GLSL
#define LAYERS_ROPE_GLSL

const uint ROPE_NORMAL = 0u;
const uint ROPE_NEOX = 1u;

float rope_theta(uint pos, uint i, uint n_rot, float log2_base, float freq_scale, float factor) {
    float inv_freq = exp2(-float(2u * i) / float(n_rot) * log2_base);
    return float(pos) * (freq_scale * inv_freq / factor);
}

// Rotates (a, b) by theta. The angle is first reduced to [-pi, pi]: Vulkan bounds the error of
// sin/cos only there (and some GPUs' fast sin/cos lose all accuracy on large arguments). The
// reduction costs about one float ulp of theta, the same as computing theta in float at all.
vec2 rope_rotate(vec2 ab, float theta) {
    const float TWO_PI = 6.28318530717958647692;
    float r = theta - TWO_PI * round(theta * (1.0 / TWO_PI));
    float c = cos(r), s = sin(r);
    return vec2(ab.x * c - ab.y * s, ab.x * s + ab.y * c);
}

// For dimension e of a head (e < n_rot): its pair index, the dimension of its partner, and
// whether e is the first member (a) of the pair.
void rope_pair_of(uint e, uint n_rot, uint mode, out uint i, out uint partner, out bool first) {
    if (mode == ROPE_NEOX) {
        uint half_rot = n_rot / 2u;
        first = e < half_rot;
        i = first ? e : e - half_rot;
        partner = first ? e + half_rot : i;
    } else {
        i = e / 2u;
        first = (e & 1u) == 0u;
        partner = first ? e + 1u : e - 1u;
    }
}

#endif
