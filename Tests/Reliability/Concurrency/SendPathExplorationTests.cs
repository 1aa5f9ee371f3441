using FlowOrleans.Transport;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Tests.Reliability.Concurrency;

/// <summary>
/// Issue 19, item 4: every interleaving (<see cref="Interleavings"/>) of writes, credit from the peer, refusals,
/// cancellation, closing and the writer loop over the real send path (<see cref="SendPath"/>). In each, no writer is
/// left waiting (a deadlock or a lost wake-up), no byte goes out beyond the credit granted, and every write ends as
/// it must: done when its credit came, Aborted when the connection closed under it.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SendPathExplorationTests(ITestOutputHelper output)
{
    [Fact]
    public void AWriteLargerThanItsCreditCompletesAsTheCreditArrives()
    {
        Explore(path =>
        {
            var flow = path.AddFlow(2, isLocal: false);
            return new Explored(path,
                [
                    [path.BeginWrite(flow, 3000), path.EndWrite(flow), path.BeginWrite(flow, 0, close: true), path.EndWrite(flow)],
                    [path.Release(flow, 1000), path.Release(flow, 1000), path.Release(flow, 1000)],
                    [path.LoopTurn(1), path.LoopTurn(2)],
                ],
                deadlocked => Expect(path, deadlocked, sent: 3000, failures: 0) ?? (flow.Send.CloseSent ? null : "the Close flag never went out"));
        });
    }

    [Fact]
    public void FlowsWaitingForTheSharedCreditGoOnWhenTheirPeerAcknowledges()
    {
        // 1,000 bytes of shared credit for two flows not yet acknowledged: one of them waits for its acknowledgement,
        // or for the other's, which returns the shared credit it spent.
        Explore(path =>
        {
            var a = path.AddFlow(1, isLocal: true);
            var b = path.AddFlow(3, isLocal: true);
            return new Explored(path,
                [
                    [path.BeginWrite(a, 1000), path.EndWrite(a)],
                    [path.BeginWrite(b, 600), path.EndWrite(b)],
                    [path.Release(a, 4096), path.Release(b, 4096)],
                    [path.LoopTurn(1), path.LoopTurn(2)],
                ],
                deadlocked => Expect(path, deadlocked, sent: 1600, failures: 0));
        }, peerSharedCredit: 1000);
    }

    [Fact]
    public void ARefusedFlowGivesItsSharedCreditToTheFlowsWaitingForIt()
    {
        Explore(path =>
        {
            var refused = path.AddFlow(1, isLocal: true);
            var waiting = path.AddFlow(3, isLocal: true);
            return new Explored(path,
                [
                    [path.BeginWrite(refused, 1000), path.EndWrite(refused)],
                    [path.BeginWrite(waiting, 600), path.EndWrite(waiting)],
                    [path.Refuse(refused), path.Release(waiting, 4096)],
                    [path.LoopTurn(1), path.LoopTurn(2)],
                ],
                deadlocked => Expect(path, deadlocked, sent: null, failures: null)
                    ?? (path.EndedWrites.Any(w => w.Flow == waiting && w.Error is not null) ? "the waiting flow's write failed" : null)
                    ?? (path.EndedWrites.Any(w => w.Flow == refused && w.Error is not (null or FlowException { Code: FlowErrorCode.BadState }))
                        ? "the refused flow's write failed with something other than BadState" : null));
        }, peerSharedCredit: 1000);
    }

    [Fact]
    public void ClosingUnderWritesWakesEveryWriter()
    {
        Explore(path =>
        {
            var partly = path.AddFlow(2, isLocal: false, credit: 1000);
            var starved = path.AddFlow(4, isLocal: false);
            return new Explored(path,
                [
                    [path.BeginWrite(partly, 3000), path.EndWrite(partly)],
                    [path.BeginWrite(starved, 10), path.EndWrite(starved)],
                    [path.Release(partly, 500)],
                    [path.BeginClose(), path.FinishClose()],
                    [path.LoopTurn(1), path.LoopTurn(2)],
                ],
                deadlocked => Expect(path, deadlocked, sent: null, failures: null)
                    ?? (path.EndedWrites.Any(w => w.Error is not (null or FlowException { Code: FlowErrorCode.Aborted }))
                        ? "a write on the closing connection failed with something other than Aborted" : null));
        });
    }

    [Fact]
    public void ACancelledWriteLeavesTheFlowWritableWhateverTheCreditDid()
    {
        Explore(path =>
        {
            var flow = path.AddFlow(2, isLocal: false);
            return new Explored(path,
                [
                    [path.BeginWrite(flow, 2000), path.EndWrite(flow), path.BeginWrite(flow, 100), path.EndWrite(flow)],
                    [path.CancelWrite(flow)],
                    [path.Release(flow, 1000), path.Release(flow, 1100)],
                    [path.LoopTurn(1), path.LoopTurn(2)],
                ],
                deadlocked => Expect(path, deadlocked, sent: null, failures: null)
                    ?? (path.EndedWrites is [(_, null or OperationCanceledException), (_, null)] ? null
                        : "the writes ended " + string.Join(", ", path.EndedWrites.Select(w => w.Error?.GetType().Name ?? "done"))));
        });
    }

    [Fact]
    public void AskingForLameDuckEndsWhetherThePeerAcknowledgesOrTheConnectionCloses()
    {
        Explore(path =>
        {
            // The write needs more than its credit: only closing ends it, after or before the lame duck went out.
            var flow = path.AddFlow(2, isLocal: false, credit: 500);
            return new Explored(path,
                [
                    [path.EnterLameDuck(), path.LameDuckAnswered()],
                    [path.AckLameDuck()],
                    [path.BeginWrite(flow, 1000), path.EndWrite(flow)],
                    [path.BeginClose(), path.FinishClose()],
                    [path.LoopTurn(1)],
                ],
                deadlocked => Expect(path, deadlocked, sent: null, failures: null)
                    ?? (path.LameDuck is { Ended: true, Error: null or FlowException { Code: FlowErrorCode.Aborted } } ? null
                        : $"asking for lame duck ended {path.LameDuck}"));
        });
    }

    [Fact]
    public void TheExplorerFindsAWakeUpThatIsLost()
    {
        // The control: a read loop that grants credit but never wakes the writer, as OnRelease would without its
        // Signal. Some interleaving leaves the writer waiting, and the explorer must say which.
        var result = Interleavings.Explore(() =>
        {
            var path = new SendPath(peerSharedCredit: 0);
            var flow = path.AddFlow(2, isLocal: false);
            var silentRelease = Step.Always("release without waking the writer", () =>
            {
                lock (path.Queue.Lock)
                {
                    flow.Send.AddCredit(1000);
                    path.Queue.MakeReadyLocked(flow);
                }
            });
            return new Explored(path,
                [
                    [path.BeginWrite(flow, 500), path.EndWrite(flow)],
                    [silentRelease],
                    [path.LoopTurn(1)],
                ],
                deadlocked => Expect(path, deadlocked, sent: 500, failures: 0));
        });
        output.WriteLine($"{result.Schedules} schedules; {result.Failure}");
        Assert.NotNull(result.Failure);
        Assert.Contains("deadlocked with writes waiting on flows [2]", result.Failure, StringComparison.Ordinal);
    }

    private void Explore(Func<SendPath, Explored> scenario, long peerSharedCredit = 0)
    {
        var result = Interleavings.Explore(() => scenario(new SendPath(peerSharedCredit)));
        output.WriteLine($"{result.Schedules} schedules");
        Assert.True(result.Failure is null, result.Failure);
    }

    /// <summary>
    /// What holds for every scenario: nobody left waiting, nothing sent beyond the credit, the writer never failed;
    /// and, when given, the bytes sent and the number of failed writes.
    /// </summary>
    private static string? Expect(SendPath path, bool deadlocked, long? sent, int? failures)
    {
        if (deadlocked)
        {
            var waiting = path.Flows.Where(path.IsWaiting).Select(f => f.Id).ToArray();
            return $"deadlocked with writes waiting on flows [{string.Join(", ", waiting)}]";
        }

        if (path.Host.Failures.Count > 0)
        {
            return "the writer failed: " + path.Host.Failures[0].Message;
        }

        if (path.Flows.Any(path.IsWaiting))
        {
            return "a write is still waiting after every actor finished";
        }

        if (path.Counters.BytesSent > path.Granted)
        {
            return $"{path.Counters.BytesSent} bytes went out on {path.Granted} bytes of credit";
        }

        if (sent is { } bytes && path.Counters.BytesSent != bytes)
        {
            return $"{path.Counters.BytesSent} bytes went out where {bytes} were written";
        }

        var failed = path.EndedWrites.Count(w => w.Error is not null);
        return failures is { } f && failed != f ? $"{failed} writes failed where {f} should have" : null;
    }

    private sealed class Explored(SendPath path, IReadOnlyList<IReadOnlyList<Step>> actors, Func<bool, string?> check) : IExplored
    {
        public IReadOnlyList<IReadOnlyList<Step>> Actors => actors;

        public bool Quiesce() => path.Quiesce();

        public string? Check(bool deadlocked)
        {
            try
            {
                return check(deadlocked);
            }
            finally
            {
                path.Dispose();
            }
        }
    }
}
