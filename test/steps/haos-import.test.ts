// `qm disk import` names the imported volume in two wordings: PVE ≥ 8.3 (qemu-server commit 60d7d9c7) and older.
import { describe, expect, it } from 'vitest';
import { parseImportedVolume } from '../../deploy/steps/haos.ts';

describe('qm disk import answer', () => {
  it('reads the PVE 8.3+ and PVE 9 line', () => {
    const answer = "importing disk '/var/lib/jarvis/haos/haos_ova-16.3.qcow2' to VM 400 ...\ntransferred 32.0 GiB of 32.0 GiB (100.00%)\nunused0: successfully imported disk 'local-lvm:vm-400-disk-1'\n";
    expect(parseImportedVolume(answer)).toEqual({ slot: 'unused0', volume: 'local-lvm:vm-400-disk-1' });
  });

  it('reads the line of older releases', () => {
    const answer = "importing disk 'haos_ova-16.3.qcow2' to VM 400 ...\nSuccessfully imported disk as 'unused1:local-lvm:vm-400-disk-2'\n";
    expect(parseImportedVolume(answer)).toEqual({ slot: 'unused1', volume: 'local-lvm:vm-400-disk-2' });
  });

  it('keeps the volume only when the import went to a drive with options, and finds nothing in other text', () => {
    expect(parseImportedVolume("scsi0: successfully imported disk 'local-lvm:vm-400-disk-1,size=32G'")).toEqual({ slot: 'scsi0', volume: 'local-lvm:vm-400-disk-1' });
    expect(parseImportedVolume("unused0: successfully imported disk ' successfully imported disk '")).toBeUndefined();
    expect(parseImportedVolume('import failed: storage local-lvm does not support vm images')).toBeUndefined();
  });
});
