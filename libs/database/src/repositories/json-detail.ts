/** A jsonb value as repositories accept it: an object of JSON values (absent keys are left out, not null). */
export type JsonDetail = { readonly [key: string]: string | number | boolean | object | undefined };
