import Alert from '@mui/material/Alert';
import Link from '@mui/material/Link';
import { Link as RouterLink } from 'react-router';

export function NotFound() {
  return (
    <Alert severity="info" sx={{ mt: 2 }}>
      There is no page here.{' '}
      <Link component={RouterLink} to="/">
        Go to the start page
      </Link>
      .
    </Alert>
  );
}
