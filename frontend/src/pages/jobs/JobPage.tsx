import { ComingSoon } from '../../components/ComingSoon';

export default function JobPage() {
  return <ComingSoon title="Job" what="One job: its stages, progress and results." />;
}
