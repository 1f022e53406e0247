"""Turning image tensors into files: uint8 conversion, grids, PNG writing, interpolation frames, GIF and MP4."""

from .grid import labeled_grid, make_grid, save_image, titled_grid, to_uint8
from .video import interpolation_frames, loop_frames, read_video_frames, save_gif, write_video

__all__ = ["to_uint8", "make_grid", "labeled_grid", "titled_grid", "save_image", "interpolation_frames", "loop_frames", "save_gif", "write_video",
           "read_video_frames"]
