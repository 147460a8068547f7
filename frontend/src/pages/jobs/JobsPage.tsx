import { ComingSoon } from '../../components/ComingSoon';

export default function JobsPage() {
  return <ComingSoon title="Jobs" what="Long audio as background jobs: progress, results, downloads." />;
}
