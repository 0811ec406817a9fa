"""Image intake (``intake.process_image``): one door for every uploaded image. Not a Django app: no models."""
