import Download from '@mui/icons-material/Download';
import PlayArrow from '@mui/icons-material/PlayArrow';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';

import { baseName, saveTextFile } from '../audio/saveFile';
import { shortClock, type Cue } from '../audio/subtitles';
import { jsonOf, srtOf, vttOf } from './downloads';
import { languageName } from './languages';
import type { TranscriptView, Word } from './transcribeRequest';

/** 13.5 -> "13.5 s", 83.2 -> "1:23.2". */
function lengthText(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${(seconds - minutes * 60).toFixed(1).padStart(4, '0')}`;
}

const ORIGIN: Record<string, string> = { request: 'given', detected: 'detected', default: 'the default' };

function Facts({ view, audioDuration }: { view: TranscriptView; audioDuration: number | null }) {
  const duration = view.duration ?? audioDuration;
  const facts: { label: string; testId?: string; detected?: boolean }[] = [];
  if (view.sourceLanguage) {
    const detected = view.sourceOrigin === 'detected';
    const origin = view.sourceOrigin ? ` (${ORIGIN[view.sourceOrigin] ?? view.sourceOrigin})` : '';
    facts.push(
      detected
        ? {
            label: `Detected language: ${languageName(view.sourceLanguage)} (${view.sourceLanguage})`,
            testId: 'detected-language',
            detected: true,
          }
        : { label: `Spoken: ${languageName(view.sourceLanguage)}${origin}` },
    );
  }
  if (view.language) facts.push({ label: `Text in: ${languageName(view.language)}` });
  if (!view.sourceLanguage && !view.language) facts.push({ label: 'Language: not reported in this format' });
  facts.push({ label: `Duration: ${duration === null ? '–' : lengthText(duration)}` });
  return (
    <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} data-testid="transcript-facts">
      {facts.map((fact) => (
        <Chip
          key={fact.label}
          size="small"
          variant="outlined"
          color={fact.detected ? 'primary' : 'default'}
          label={fact.label}
          data-testid={fact.testId}
        />
      ))}
      <Chip
        size="small"
        variant="outlined"
        label={`${view.route} · ${view.format === 'gateway' ? 'json' : view.format}`}
      />
    </Box>
  );
}

function DownloadButton({
  label,
  testId,
  content,
  fileName,
  type,
  why,
}: {
  label: string;
  testId: string;
  content: string | null;
  fileName: string;
  type: string;
  why: string;
}) {
  const button = (
    <Button
      size="small"
      variant="outlined"
      startIcon={<Download />}
      disabled={content === null}
      onClick={() => content !== null && saveTextFile(fileName, content, type)}
      data-testid={testId}
    >
      {label}
    </Button>
  );
  // A disabled button gets no pointer events: the tooltip sits on a wrapper that says why.
  return content === null ? (
    <Tooltip title={why}>
      <span tabIndex={0}>{button}</span>
    </Tooltip>
  ) : (
    button
  );
}

function SegmentsTable({
  segments,
  currentTime,
  onSeek,
}: {
  segments: Cue[] | null;
  currentTime: number;
  onSeek: (seconds: number) => void;
}) {
  return (
    <TableContainer sx={{ maxHeight: '50vh' }}>
      <Table
        size="small"
        stickyHeader
        data-testid="segments-table"
        aria-label="Segments"
        sx={{ '& td': { verticalAlign: 'top' } }}
      >
        <TableHead>
          <TableRow>
            <TableCell sx={{ width: 110 }}>Start</TableCell>
            <TableCell sx={{ width: 90 }}>End</TableCell>
            <TableCell>Text</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {segments === null || segments.length === 0 ? (
            <TableRow>
              <TableCell colSpan={3}>
                <Typography variant="body2" color="text.secondary">
                  {segments === null
                    ? 'This format carries no timestamps: choose verbose_json, srt or vtt for segments.'
                    : 'No segment: the model found no speech to write down.'}
                </Typography>
              </TableCell>
            </TableRow>
          ) : (
            segments.map((segment, index) => {
              const playing = currentTime >= segment.start && currentTime < segment.end;
              return (
                <TableRow
                  key={index}
                  hover
                  selected={playing}
                  onClick={() => onSeek(segment.start)}
                  sx={{ cursor: 'pointer' }}
                  data-testid="segment-row"
                >
                  <TableCell>
                    <Button
                      size="small"
                      startIcon={<PlayArrow />}
                      onClick={(event) => {
                        event.stopPropagation();
                        onSeek(segment.start);
                      }}
                      aria-label={`Play from ${shortClock(segment.start)}`}
                      sx={{ fontVariantNumeric: 'tabular-nums', minWidth: 0 }}
                    >
                      {shortClock(segment.start)}
                    </Button>
                  </TableCell>
                  <TableCell sx={{ fontVariantNumeric: 'tabular-nums' }}>{shortClock(segment.end)}</TableCell>
                  <TableCell sx={{ overflowWrap: 'anywhere' }}>
                    {segment.text || (
                      <Typography component="span" variant="body2" color="text.secondary">
                        (no text)
                      </Typography>
                    )}
                  </TableCell>
                </TableRow>
              );
            })
          )}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

function Words({ words, onSeek }: { words: Word[]; onSeek: (seconds: number) => void }) {
  const shown = words.slice(0, 1000);
  return (
    <Box component="section" aria-labelledby="transcript-words-title">
      <Typography variant="h3" component="h3" id="transcript-words-title" sx={{ mb: 1 }}>
        Words ({words.length})
      </Typography>
      {words.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          No word timestamps.
        </Typography>
      ) : (
        <Box sx={{ display: 'flex', flexWrap: 'wrap', gap: 0.5 }}>
          {shown.map((word, index) => (
            <Chip
              key={index}
              size="small"
              label={word.word}
              onClick={() => onSeek(word.start)}
              title={`${shortClock(word.start)} – ${shortClock(word.end)}`}
            />
          ))}
          {words.length > shown.length && (
            <Typography variant="body2" color="text.secondary">
              … and {words.length - shown.length} more (in the JSON download).
            </Typography>
          )}
        </Box>
      )}
    </Box>
  );
}

/** The text, what is known about it, the downloads, and the segments that seek the player. */
export function TranscriptResult({
  view,
  fileName,
  audioDuration,
  currentTime,
  onSeek,
}: {
  view: TranscriptView;
  fileName: string;
  audioDuration: number | null;
  currentTime: number;
  onSeek: (seconds: number) => void;
}) {
  const name = baseName(fileName);
  const noLength = 'Needs segments or the audio length: choose verbose_json, srt or vtt.';
  return (
    <Card component="section" aria-labelledby="transcript-title">
      <CardContent>
        <Stack spacing={2}>
          <Box
            sx={{
              display: 'flex',
              gap: 1,
              flexWrap: 'wrap',
              justifyContent: 'space-between',
              alignItems: 'center',
            }}
          >
            <Typography variant="h2" id="transcript-title">
              Transcript
            </Typography>
            <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
              <DownloadButton
                label="SRT"
                testId="download-srt"
                content={srtOf(view, audioDuration)}
                fileName={`${name}.srt`}
                type="application/x-subrip"
                why={noLength}
              />
              <DownloadButton
                label="VTT"
                testId="download-vtt"
                content={vttOf(view, audioDuration)}
                fileName={`${name}.vtt`}
                type="text/vtt"
                why={noLength}
              />
              <DownloadButton
                label="JSON"
                testId="download-json"
                content={jsonOf(view)}
                fileName={`${name}.json`}
                type="application/json"
                why=""
              />
            </Box>
          </Box>
          <Facts view={view} audioDuration={audioDuration} />
          <Box>
            <Typography
              data-testid="transcript-text"
              sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', minHeight: '1.5em' }}
            >
              {view.text}
            </Typography>
            {view.text.trim() === '' && (
              <Typography variant="body2" color="text.secondary" sx={{ fontStyle: 'italic' }}>
                The model returned no text for this audio (silence, music, or a language it does not know).
              </Typography>
            )}
          </Box>
          <SegmentsTable segments={view.segments} currentTime={currentTime} onSeek={onSeek} />
          {view.words && <Words words={view.words} onSeek={onSeek} />}
        </Stack>
      </CardContent>
    </Card>
  );
}
