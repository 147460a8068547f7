import Alert from '@mui/material/Alert';

import { PageHeader } from './PageHeader';

/** The page a playground shows until it is built (issue 8, items 5-8). */
export function ComingSoon({ title, what }: { title: string; what: string }) {
  return (
    <>
      <PageHeader title={title} subtitle={what} />
      <Alert severity="info">
        Coming: this page is being built. Until then, "Use it from code" shows how to call the model.
      </Alert>
    </>
  );
}
