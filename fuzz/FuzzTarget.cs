namespace FlowOrleans.Fuzz;

/// <summary>
/// One fuzz target: a function over arbitrary bytes that returns normally for every input the code under test handles
/// as documented, and throws <see cref="InvariantViolationException"/> (or lets any unexpected exception escape) when it
/// does not, which the fuzzing engine records as a crash.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The name used on the command line and as the corpus folder.</summary>
    public abstract string Name { get; }

    /// <summary>The largest input worth generating; libFuzzer's <c>-max_len</c>.</summary>
    public abstract int MaxLength { get; }

    /// <summary>Runs one input and checks every invariant of the code under test.</summary>
    public abstract void Run(ReadOnlySpan<byte> input);

    /// <summary>The seed corpus: small valid inputs and edge cases, by file name.</summary>
    public abstract IEnumerable<KeyValuePair<string, byte[]>> Seeds();
}
