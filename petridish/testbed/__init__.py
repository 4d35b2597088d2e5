"""The testbed: every alignment technique on every organism of its substrate (`petridish matrix`); the rows are the
organisms registered with a face (`petridish.organisms.with_faces`)."""
