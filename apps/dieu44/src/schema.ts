// dieu44/schema: the plan format. Filled in by the app issue.
export {};
