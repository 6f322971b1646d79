/** The largest frame a channel carries: keeps browser interop safe (≤ 16 KiB chunks). Transports enforce it; the frame codec builds to it. */
export const MAX_FRAME_BYTES = 16 * 1024
