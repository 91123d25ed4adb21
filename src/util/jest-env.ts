/** NODE_OPTIONS every Jest process of ours needs (ESM through the VM modules API). */
export const JEST_NODE_OPTIONS = '--experimental-vm-modules --disable-warning=ExperimentalWarning';
