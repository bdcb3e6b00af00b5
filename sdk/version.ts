/** The version of the function contract, recorded in each bundle and in the manifest. */
export const SDK_VERSION = '0.1.0';
