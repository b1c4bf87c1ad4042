// placeholder translation unit; replaced as the library grows.
