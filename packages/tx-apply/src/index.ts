// @dieu44/tx-apply: library API. Filled in by its own issue; nothing here pretends to work yet.
export {};
