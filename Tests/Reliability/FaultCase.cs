using System.Globalization;
using FlowOrleans.Transport.Protocols.Faults;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// One cell of the fault matrix: a plan put on the first connection one side (dialer or acceptor) makes, the traffic
/// run through it, and whether every exchange must complete (the fault only delays or splits bytes) or may fail.
/// </summary>
internal sealed record FaultCase(string Family, bool OnDialer, FaultPlan Plan, bool Lossless, int Flows = 3, int RequestBytes = 120_000, int ReplyBytes = 120_000)
{
    /// <summary>Set to <c>long</c> for the exhaustive matrix (docs/reliability.md): every family at many more offsets and seeds.</summary>
    public const string LongRunVariable = "FLOW_FAULT_MATRIX";

    public static bool LongRun => string.Equals(Environment.GetEnvironmentVariable(LongRunVariable), "long", StringComparison.OrdinalIgnoreCase);

    public static readonly string[] Families = ["cut", "reset", "flip", "split-delay", "stall"];

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(OnDialer ? "dialer" : "acceptor")} {Plan}, {Flows}x{RequestBytes}/{ReplyBytes} B");

    /// <summary>
    /// The cases of one family. Offsets span the handshake (Setups of about 250 bytes, then the Auth records), the
    /// first records of data and the middle of the transfer; the long run adds every 7th byte of the first 4 KiB and
    /// seeded offsets across the transfer.
    /// </summary>
    public static IEnumerable<FaultCase> Of(string family)
    {
        var handshake = LongRun ? Enumerable.Range(0, 4096 / 7).Select(i => (long)i * 7).ToArray() : [0, 3, 150, 700, 1500, 4000];
        var transfer = LongRun ? Seeded(family, 40, 4096, 700_000) : [70_000, 250_000];
        var acceptorOffsets = LongRun ? [.. handshake.Where((_, i) => i % 3 == 0), .. Seeded(family + "/a", 20, 4096, 700_000)] : new long[] { 5, 400, 2000, 100_000 };
        switch (family)
        {
            case "cut":
                foreach (var at in handshake.Concat(transfer))
                {
                    yield return new(family, true, new FaultPlan { CutAfterBytes = at }, Lossless: false);
                }

                foreach (var at in acceptorOffsets)
                {
                    yield return new(family, false, new FaultPlan { CutAfterBytes = at }, Lossless: false);
                }

                break;
            case "reset":
                foreach (var at in LongRun ? handshake.Concat(transfer) : [10, 1200, 60_000, 200_000])
                {
                    yield return new(family, true, new FaultPlan { ResetAfterBytes = at }, Lossless: false);
                }

                foreach (var at in LongRun ? acceptorOffsets : [300, 3000, 150_000])
                {
                    yield return new(family, false, new FaultPlan { ResetAfterBytes = at }, Lossless: false);
                }

                break;
            case "flip":
                byte[] masks = [0x01, 0x80, 0xFF];
                var flips = LongRun ? handshake.Concat(transfer).ToArray() : [1, 6, 60, 200, 900, 1700, 3000, 70_000, 200_000];
                for (var i = 0; i < flips.Length; i++)
                {
                    yield return new(family, true, new FaultPlan { FlipAtByte = flips[i], FlipMask = masks[i % masks.Length] }, Lossless: false);
                }

                var acceptorFlips = LongRun ? acceptorOffsets : [2, 100, 1000, 2500, 90_000];
                for (var i = 0; i < acceptorFlips.Length; i++)
                {
                    yield return new(family, false, new FaultPlan { FlipAtByte = acceptorFlips[i], FlipMask = masks[(i + 1) % masks.Length] }, Lossless: false);
                }

                break;
            case "split-delay":
                foreach (var seed in LongRun ? Enumerable.Range(1, 8) : [1])
                {
                    yield return new(family, true, new FaultPlan { MaxPieceBytes = 7, Seed = seed }, Lossless: true, Flows: 2, RequestBytes: 6_000, ReplyBytes: 6_000);
                    yield return new(family, false, new FaultPlan { MaxPieceBytes = 7, Seed = seed }, Lossless: true, Flows: 2, RequestBytes: 6_000, ReplyBytes: 6_000);
                    yield return new(family, true, new FaultPlan { MaxPieceBytes = 300, Seed = seed }, Lossless: true);
                    yield return new(family, false, new FaultPlan { MaxPieceBytes = 5000, Seed = seed, PieceDelay = TimeSpan.FromMilliseconds(1) }, Lossless: true);
                    yield return new(family, true, new FaultPlan { PieceDelay = TimeSpan.FromMilliseconds(2) }, Lossless: true);
                }

                break;
            case "stall":
                var stalls = LongRun ? [0, 300, 2000, 20_000, 80_000, 300_000] : new long[] { 2000, 80_000 };
                foreach (var at in stalls)
                {
                    yield return new(family, false, new FaultPlan { StallReadsAfterBytes = at, StallFor = TimeSpan.FromMilliseconds(300) }, Lossless: true);
                    yield return new(family, true, new FaultPlan { StallReadsAfterBytes = at, StallFor = TimeSpan.FromMilliseconds(300) }, Lossless: true);
                }

                // Stalled for good: only the channel timeout can end it.
                yield return new(family, false, new FaultPlan { StallReadsAfterBytes = 50_000 }, Lossless: false);
                yield return new(family, true, new FaultPlan { StallReadsAfterBytes = 3000 }, Lossless: false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(family), family, "not a fault family");
        }
    }

    private static long[] Seeded(string salt, int count, long from, long to)
    {
#pragma warning disable CA5394 // Offsets need to be spread and replayable, not unpredictable.
        var random = new Random(salt.Aggregate(17, (h, c) => unchecked((h * 31) + c)) & 0x7fff_ffff);
        return [.. Enumerable.Range(0, count).Select(_ => random.NextInt64(from, to))];
#pragma warning restore CA5394
    }
}
