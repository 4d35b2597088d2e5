"""Task environments shared by organisms (an organism never imports another organism; they share these)."""
