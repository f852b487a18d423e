"""The school office (sekretariat): the secretary's start page, search, the pupil register,
movements and guardians (issue 13)."""
