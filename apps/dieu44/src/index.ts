// dieu44: the procedure as a library. Filled in by the app issue.
export {};
