"""Long work outside the request (large imports), with progress the page follows."""
