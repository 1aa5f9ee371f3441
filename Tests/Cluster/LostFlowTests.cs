using System.Reflection;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Transport;
using Orleans.Runtime;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// A flow lives in the silo process that opened it; when that silo is killed, stopped or cut off, the flow is lost,
/// and the client's calls on it must say so as a <see cref="FlowException"/>. Found by the chaos test: reads failed
/// with Orleans' bare <see cref="EnumerationAbortedException"/> (the restarted silo did not know the read) and writes
/// with rejection or response-timeout exceptions, and disposing a lost flow threw.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class LostFlowTests
{
    private static readonly FlowHandle Handle = new(
        "10.0.0.1:11111@1", Guid.NewGuid(), Connections.ConnectionTestKit.LocalEndpoint("tcp", "10.0.0.1:1"), Connections.ConnectionTestKit.LocalEndpoint("tcp", "10.0.0.2:2"), [], TimeSpan.Zero);

    public static TheoryData<string> Errors => ["rejected", "timeout", "enumeration"];

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task EveryCallOnAFlowWhoseSiloIsGoneFailsSayingTheFlowIsLostAndDisposingDoesNotThrow(string error)
    {
        var silo = GoneSilo.Create(error);
        var flow = new ClusterFlowStream(silo, Handle, Capability.NewRandom());

        foreach (var call in new Func<Task>[]
        {
            () => flow.ReadAsync(new byte[8]).AsTask(),
            () => flow.WriteAsync(new byte[8]).AsTask(),
            () => flow.WriteMessageAsync(new byte[8]).AsTask(),
            () => flow.CompleteWritesAsync(),
        })
        {
            var lost = await Assert.ThrowsAsync<FlowException>(call);
            Assert.Equal(FlowErrorCode.Network, lost.Code);
            Assert.Contains("The flow is lost", lost.Message, StringComparison.Ordinal);
            Assert.Contains(Handle.SiloKey, lost.Message, StringComparison.Ordinal);
        }

        await flow.DisposeAsync();
    }

    /// <summary>A silo flow grain reference whose every call meets a silo that is gone, in the way <c>error</c> names.</summary>
    public class GoneSilo : DispatchProxy
    {
        private string _error = "";

        public static ISiloFlowGrain Create(string error)
        {
            var silo = DispatchProxy.Create<ISiloFlowGrain, GoneSilo>();
            ((GoneSilo)(object)silo)._error = error;
            return silo;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            Exception failure = _error switch
            {
                "rejected" => new SiloUnavailableException("the silo is gone"),
                "timeout" => new TimeoutException("Response did not arrive on time in 00:00:30"),
                _ => new EnumerationAbortedException("the enumeration is not known to the silo"),
            };
            return targetMethod!.Name switch
            {
                nameof(ISiloFlowGrain.ReadAsync) => Fail(failure),
                nameof(ISiloFlowGrain.WriteMessageAsync) => Task.FromException<int>(failure),
                _ when targetMethod.ReturnType == typeof(Task) => Task.FromException(failure),
                _ => throw new NotSupportedException(targetMethod.Name),
            };
        }

        private static async IAsyncEnumerable<byte[]> Fail(Exception failure)
        {
            await Task.Yield();
            throw failure;
#pragma warning disable CS0162 // An iterator needs a yield to be one.
            yield break;
#pragma warning restore CS0162
        }
    }
}
